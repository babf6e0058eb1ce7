"""GET models/{model}/robustness[?version=vN]: the stored robustness report of a version (its
active one by default), as `neural robustness` measured it."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from neural.errors import NotFound
from neural.registry.selectors import model_get
from neural.registry.views import version_of


class ModelRobustnessView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("version", str, description="v3 (default: the active version)")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, model_id: str):
        model = model_get(name=model_id)
        ref = request.query_params.get("version")
        version = version_of(model, ref) if ref else model.versions.filter(is_active=True).first()
        if version is None:
            raise NotFound(f"model {model.name!r} has no active version; pass ?version=", field="version")
        if not version.robustness:
            raise NotFound(
                f"{version} has no robustness report; run `neural robustness --model {version}`", field="version"
            )
        return Response({"model": model.name, "version": version.label, "robustness": version.robustness})
