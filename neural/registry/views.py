from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from neural.errors import NotFound
from neural.registry.selectors import model_get, model_list
from neural.registry.serializers import (
    ActivateSerializer,
    ActivationEventSerializer,
    ModelVersionSerializer,
    PredictBatchSerializer,
    PredictSerializer,
    RegisteredModelSerializer,
)
from neural.registry.services import model_version_activate
from neural.registry.serving import predict


class ModelListView(generics.ListAPIView):
    serializer_class = RegisteredModelSerializer

    def get_queryset(self):
        return model_list()


class ModelDetailView(APIView):
    @extend_schema(responses={200: RegisteredModelSerializer})
    def get(self, request, model_id: str):
        model = model_get(name=model_id)
        data = RegisteredModelSerializer(model).data
        data["activations"] = ActivationEventSerializer(model.activation_events.all()[:50], many=True).data
        return Response(data)


class ModelMetricsView(APIView):
    @extend_schema(responses={200: ModelVersionSerializer(many=True)})
    def get(self, request, model_id: str):
        model = model_get(name=model_id)
        return Response(
            {
                "model": model.name,
                "versions": [
                    {"version": v.label, "active": v.is_active, "metrics": v.metrics, "test_metrics": v.test_metrics}
                    for v in model.versions.all()
                ],
            }
        )


class IsAdmin(permissions.BasePermission):
    message = "only admins may activate model versions"

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_staff)


class ModelActivateView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsAdmin]

    @extend_schema(request=ActivateSerializer, responses={200: RegisteredModelSerializer})
    def post(self, request, model_id: str):
        body = ActivateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        model = model_get(name=model_id)
        number = int(body.validated_data["version"].lstrip("v"))
        version = model.versions.filter(version=number).first()
        if version is None:
            raise NotFound(f"model {model.name!r} has no version v{number}", field="version")
        model_version_activate(version=version, user=request.user)
        return Response(RegisteredModelSerializer(model_get(name=model_id)).data)


class PredictView(APIView):
    @extend_schema(request=PredictSerializer)
    def post(self, request):
        body = PredictSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version, results = predict(model_ref=body.validated_data["model"], records=[body.validated_data["input"]])
        return Response({"model": version.model.name, "version": version.label, **results[0]})


class PredictBatchView(APIView):
    @extend_schema(request=PredictBatchSerializer)
    def post(self, request):
        body = PredictBatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version, results = predict(model_ref=body.validated_data["model"], records=body.validated_data["inputs"])
        return Response({"model": version.model.name, "version": version.label, "predictions": results})
