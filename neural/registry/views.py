from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from neural.errors import DataError, NotFound
from neural.registry.admin import can_activate
from neural.registry.ensembles import ensemble_create, ensemble_members_resolve, ensemble_report
from neural.registry.models import ModelVersion, RegisteredModel
from neural.registry.selectors import model_detail, model_get, model_list
from neural.registry.serializers import (
    ActivateSerializer,
    ActivationEventSerializer,
    EnsembleCreateSerializer,
    ModelMetricsSerializer,
    ModelVersionSerializer,
    RegisteredModelSerializer,
    RolloutSerializer,
)
from neural.registry.services import (
    model_delete,
    model_rollout_abort,
    model_rollout_promote,
    model_rollout_start,
    model_version_activate,
)


class IsAdmin(permissions.BasePermission):
    message = "only admins may change which model version answers"

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return can_activate(request.user)  # the same rule as the admin site and the pages


def version_of(model: RegisteredModel, ref: str, field: str = "version") -> ModelVersion:
    """``v3``, ``3`` or ``name:v3`` (which must name ``model``)."""
    name, sep, number = ref.rpartition(":")
    if sep and name != model.name:
        raise DataError(f"{ref} is a version of model {name!r}, not of {model.name!r}", field=field)
    number = number.lstrip("v")
    version = model.versions.filter(version=int(number)).first() if number.isdigit() else None
    if version is None:
        raise NotFound(f"model {model.name!r} has no version v{number}", field=field)
    return version


def _detail(name: str) -> dict:
    model = model_detail(name=name)
    data = RegisteredModelSerializer(model).data
    data["activations"] = ActivationEventSerializer(model.activation_events.all()[:50], many=True).data
    return data


class ModelListView(generics.ListAPIView):
    serializer_class = RegisteredModelSerializer

    def get_queryset(self):
        return model_list()


class ModelDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsAdmin]

    @extend_schema(responses={200: RegisteredModelSerializer})
    def get(self, request, model_id: str):
        return Response(_detail(model_id))

    @extend_schema(
        parameters=[OpenApiParameter("force", bool, description="delete even with an active version")],
        responses={204: None},
    )
    def delete(self, request, model_id: str):
        force = request.query_params.get("force", "").lower()
        if force not in ("", "true", "false", "1", "0"):
            raise DataError("force must be true or false", field="force")
        model_delete(model=model_get(name=model_id), user=request.user, force=force in ("true", "1"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ModelMetricsView(APIView):
    @extend_schema(responses={200: ModelMetricsSerializer})
    def get(self, request, model_id: str):
        model = model_get(name=model_id)
        return Response(
            {
                "model": model.name,
                "versions": [
                    {
                        "version": v.label,
                        "active": v.is_active,
                        "kind": v.kind,
                        "metrics": v.metrics,
                        "test_metrics": v.test_metrics,
                        "ensemble": ensemble_report(version=v),
                        "per_class": v.per_class(),
                    }
                    for v in model.versions.all()
                ],
            }
        )


class ModelActivateView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsAdmin]

    @extend_schema(request=ActivateSerializer, responses={200: RegisteredModelSerializer})
    def post(self, request, model_id: str):
        body = ActivateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        model = model_get(name=model_id)
        model_version_activate(version=version_of(model, body.validated_data["version"]), user=request.user)
        return Response(_detail(model_id))


class ModelRolloutView(APIView):
    """POST {version, weight}: start (or re-weight) a split; DELETE: roll it back."""

    permission_classes = [permissions.IsAuthenticated, IsAdmin]

    @extend_schema(request=RolloutSerializer, responses={200: RegisteredModelSerializer})
    def post(self, request, model_id: str):
        body = RolloutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        model = model_get(name=model_id)
        version = version_of(model, body.validated_data["version"])
        model_rollout_start(model=model, version=version, weight=body.validated_data["weight"], user=request.user)
        return Response(_detail(model_id))

    @extend_schema(request=None, responses={200: RegisteredModelSerializer})
    def delete(self, request, model_id: str):
        model_rollout_abort(model=model_get(name=model_id), user=request.user)
        return Response(_detail(model_id))


class ModelPromoteView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsAdmin]

    @extend_schema(request=None, responses={200: RegisteredModelSerializer})
    def post(self, request, model_id: str):
        model_rollout_promote(model=model_get(name=model_id), user=request.user)
        return Response(_detail(model_id))


class EnsembleCreateView(APIView):
    """POST ensembles {models[...], method, weights?, name?} -> 201 the new ensemble version."""

    @extend_schema(request=EnsembleCreateSerializer, responses={201: ModelVersionSerializer})
    def post(self, request):
        body = EnsembleCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        weights = data.get("weights", "auto")
        if not (weights == "auto" or (isinstance(weights, list) and all(_is_number(w) for w in weights))):
            raise DataError('weights must be "auto" or a list of numbers, one per member', field="weights")
        members = ensemble_members_resolve(refs=data["models"])
        version = ensemble_create(
            user=request.user,
            name=data.get("name") or (f"{members[0].model.name}-ensemble" if members else ""),
            members=members,
            method=data["method"],
            weights=weights,
        )
        return Response({"model": version.model.name, **ModelVersionSerializer(version).data}, status=201)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
