from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from neural.datasets.selectors import dataset_list
from neural.datasets.serializers import DatasetSerializer, DatasetUploadSerializer
from neural.datasets.services import dataset_import
from neural.errors import DataError


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
        if data["file"].size > settings.DATA_UPLOAD_MAX_MB * 1024 * 1024:
            raise DataError(
                f"file is larger than the {settings.DATA_UPLOAD_MAX_MB} MB limit (DATA_UPLOAD_MAX_MB)", field="file"
            )
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "upload"
            with path.open("wb") as out:
                shutil.copyfileobj(data["file"], out, 1 << 20)
            dataset = dataset_import(
                name=data["name"], path=path, target=data["target"], pattern=data["pattern"], owner=request.user
            )
        return Response(DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailView(generics.RetrieveAPIView):
    serializer_class = DatasetSerializer

    def get_queryset(self):
        return dataset_list()
