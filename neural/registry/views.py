from __future__ import annotations

import threading
import time

import orjson
from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import exceptions, generics, permissions, status
from rest_framework import serializers as fields
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.utils import encoders
from rest_framework.views import APIView

from neural.api.auth import TokenAuthentication
from neural.api.parsers import check_body
from neural.errors import DataError, NotFound
from neural.registry.admin import can_activate
from neural.registry.models import ModelVersion, RegisteredModel
from neural.registry.selectors import model_detail, model_get, model_list
from neural.registry.serializers import (
    ActivateSerializer,
    ActivationEventSerializer,
    ModelMetricsSerializer,
    PredictBatchSerializer,
    PredictSerializer,
    RecommendSerializer,
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
from neural.registry.serving import predict, recommend


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
                    {"version": v.label, "active": v.is_active, "metrics": v.metrics, "test_metrics": v.test_metrics}
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


# --- Serving: the hot path ----------------------------------------------------------------------
# Predictions skip two database round trips per request (the token and the answering version are
# remembered briefly per process; see serving.py for the version), DRF serializers (the envelope
# is checked by hand, with the same error shapes) and the stdlib json module (orjson both ways).

TOKEN_TTL_S = 2.0  # a token deleted (or a user deactivated) in another process stops working within this
_tokens: dict[str, tuple[float, AuthToken]] = {}
_tokens_lock = threading.Lock()


class CachedTokenAuthentication(TokenAuthentication):
    """knox's (hashed) token check, with each valid token's answer kept ``TOKEN_TTL_S`` seconds
    per process.

    Unknown tokens are never cached (each is asked again); deleting a token, saving or deleting a
    user, or changing a user's groups, in this process forgets the cached answers at once. A token
    past its expiry is not served from the cache either.
    """

    def authenticate_credentials(self, token: bytes):
        key = token.decode("utf-8", "replace")
        known = _tokens.get(key)
        if known is not None and known[0] > time.monotonic():
            expiry = known[1].expiry
            if expiry is None or expiry > timezone.now():
                return known[1].user, known[1]
        user, token = super().authenticate_credentials(token)
        with _tokens_lock:
            if len(_tokens) >= 10_000:
                _tokens.clear()
            _tokens[key] = (time.monotonic() + TOKEN_TTL_S, token)
        return user, token


class CachedTokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of ``CachedTokenAuthentication``: the same header as knox's
    scheme, under its own name (one name for two classes makes drf-spectacular's schema ambiguous)."""

    target_class = CachedTokenAuthentication
    name = "cachedTokenAuth"
    priority = 1


def forget_tokens(**_signal_kwargs) -> None:
    with _tokens_lock:
        _tokens.clear()


post_delete.connect(forget_tokens, sender=AuthToken, dispatch_uid="serving-tokens-token-delete")
post_save.connect(forget_tokens, sender=get_user_model(), dispatch_uid="serving-tokens-user-save")
post_delete.connect(forget_tokens, sender=get_user_model(), dispatch_uid="serving-tokens-user-delete")
# A user's groups decide whether it is a viewer (neural.api.permissions), kept with the cached user.
m2m_changed.connect(forget_tokens, sender=get_user_model().groups.through, dispatch_uid="serving-tokens-user-groups")


class OrjsonParser(JSONParser):
    """Strict JSON (NaN and Infinity refused, as DRF's own parser does) decoded by orjson."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read()
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        check_body(data, raw=raw)
        return data


class OrjsonRenderer(JSONRenderer):
    """orjson; what it cannot encode itself (lazy strings, Decimal, ...) goes to DRF's encoder."""

    _fallback = encoders.JSONEncoder().default

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=self._fallback, option=orjson.OPT_SERIALIZE_NUMPY)


class ServingView(APIView):
    throttle_scope = "predict"  # PREDICT_THROTTLE_RATE per user (settings.REST_FRAMEWORK)
    authentication_classes = [CachedTokenAuthentication, SessionAuthentication]
    parser_classes = [OrjsonParser]
    renderer_classes = [OrjsonRenderer, BrowsableAPIRenderer]


def _required(body: dict, name: str, problems: dict) -> object:
    value = body.get(name)
    if value is None:
        problems[name] = ["This field is required." if name not in body else "This field may not be null."]
    return value


def _predict_body(body) -> tuple[str, dict]:
    """``model`` and ``input`` checked by hand with PredictSerializer's messages (same 400s)."""
    if not isinstance(body, dict):
        raise exceptions.ValidationError(
            {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {type(body).__name__}."]}
        )
    problems: dict[str, list[str]] = {}
    model, record = _required(body, "model", problems), _required(body, "input", problems)
    if isinstance(model, (int, float)) and not isinstance(model, bool):
        model = str(model)  # as CharField does
    if model is not None and not isinstance(model, str):
        problems["model"] = ["Not a valid string."]
    elif isinstance(model, str) and not model.strip():
        problems["model"] = ["This field may not be blank."]
    elif isinstance(model, str) and len(model.strip()) > 120:
        problems["model"] = ["Ensure this field has no more than 120 characters."]
    if record is not None and not isinstance(record, dict):
        problems["input"] = [f'Expected a dictionary of items but got type "{type(record).__name__}".']
    if problems:
        raise exceptions.ValidationError(problems)
    return model.strip(), record


def _caller(request, body: dict) -> str | None:
    caller = body.get("caller") if isinstance(body, dict) else None
    caller = caller or request.headers.get("X-Caller-Key")
    if caller is not None and (not isinstance(caller, str) or len(caller) > 200):
        raise DataError("caller must be a string of at most 200 characters", field="caller")
    return caller or None


_PREDICTION = {
    "prediction": fields.JSONField(help_text="the predicted label or value"),
    "probabilities": fields.DictField(child=fields.FloatField(), required=False, help_text="classification"),
    "score": fields.FloatField(required=False, help_text="where the pattern defines one"),
    "prediction_id": fields.UUIDField(help_text="give it to POST feedback with the true outcome"),
}
PREDICTION_RESPONSE = inline_serializer(
    "PredictResponse", {"model": fields.CharField(), "version": fields.CharField(), **_PREDICTION}
)
BATCH_RESPONSE = inline_serializer(
    "PredictBatchResponse",
    {
        "model": fields.CharField(),
        "version": fields.CharField(),
        "predictions": inline_serializer("Prediction", _PREDICTION, many=True),
    },
)


class PredictView(ServingView):
    @extend_schema(request=PredictSerializer, responses={200: PREDICTION_RESPONSE})
    def post(self, request):
        body = request.data
        model, record = _predict_body(body)
        version, results = predict(model_ref=model, records=[record], caller=_caller(request, body))
        return Response({"model": version.model.name, "version": version.label, **results[0]})


class PredictBatchView(ServingView):
    @extend_schema(request=PredictBatchSerializer, responses={200: BATCH_RESPONSE})
    def post(self, request):
        body = request.data
        if not isinstance(body, dict):
            raise DataError("the body must be a JSON object with model and inputs", field="body")
        model, inputs = body.get("model"), body.get("inputs")
        if not isinstance(model, str) or not model:
            raise DataError("model is required: a name or name:vN", field="model")
        if not isinstance(inputs, list):
            raise DataError("inputs must be a list of objects", field="inputs")
        version, results = predict(model_ref=model, records=inputs, caller=_caller(request, body))
        return Response({"model": version.model.name, "version": version.label, "predictions": results})


class RecommendView(ServingView):
    @extend_schema(request=RecommendSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        body = RecommendSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        return Response(
            recommend(
                model_ref=data["model"],
                task=data["task"],
                candidates=data["candidates"],
                caller=data.get("caller") or request.headers.get("X-Caller-Key"),
            )
        )
