from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from neural.api.parsers import JSONParser
from neural.datasets.selectors import dataset_by_id, dataset_list, dataset_sample
from neural.datasets.serializers import DatasetSchemaPatchSerializer, DatasetSerializer, DatasetUploadSerializer
from neural.datasets.services import check_size, dataset_import, dataset_set_schema
from neural.errors import DataError


def save_upload(upload, folder: Path) -> Path:
    """Copy an uploaded file to ``folder`` in 1 MiB chunks, refusing one over DATA_UPLOAD_MAX_MB."""
    check_size(upload.size)
    suffix = Path(upload.name or "").suffix.lower()
    path = folder / ("upload" + (suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""))
    with path.open("wb") as out:
        shutil.copyfileobj(upload, out, 1 << 20)
    return path


class DatasetListCreateView(generics.ListAPIView):
    serializer_class = DatasetSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return dataset_list()

    @extend_schema(request=DatasetUploadSerializer, responses={201: DatasetSerializer})
    def post(self, request):
        upload = DatasetUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        with tempfile.TemporaryDirectory() as tmp:
            path = save_upload(data["file"], Path(tmp))
            dataset = dataset_import(
                name=data["name"],
                path=path,
                target=data.get("target") or None,
                pattern=data["pattern"],
                fmt=data.get("format"),
                owner=request.user,
            )
        return Response(DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(responses={200: DatasetSerializer})
    def get(self, request, pk: int):
        return Response(DatasetSerializer(dataset_by_id(pk=pk)).data)

    @extend_schema(request=DatasetSchemaPatchSerializer, responses={200: DatasetSerializer})
    def patch(self, request, pk: int):
        """Override column kinds or exclusion: ``{"schema": {"col": {"kind": "categorical", "excluded": false}}}``."""
        body = DatasetSchemaPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dataset = dataset_set_schema(dataset=dataset_by_id(pk=pk), overrides=body.validated_data["schema"])
        return Response(DatasetSerializer(dataset).data)


class DatasetQualityView(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        dataset = dataset_by_id(pk=pk)
        return Response({"dataset": dataset.label, **(dataset.quality or {})})


class DatasetSampleView(APIView):
    @extend_schema(parameters=[OpenApiParameter("limit", int)], responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        limit = request.query_params.get("limit", "20")
        if not limit.isdigit() or not 1 <= int(limit) <= 500:
            raise DataError("limit must be a whole number from 1 to 500", field="limit")
        dataset = dataset_by_id(pk=pk)
        return Response({"dataset": dataset.label, "rows": dataset_sample(dataset=dataset, limit=int(limit))})
