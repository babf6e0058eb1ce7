"""The serving endpoints: predict, predict/batch and recommend (the hot path).

Predictions skip two database round trips per request (the token and the answering version are
remembered briefly per process; see services.py for the version), DRF serializers (the envelope
is checked by hand, with the same error shapes) and the stdlib json module (orjson both ways).
``forget_tokens`` is connected to the user and token rows in ``ServingConfig.ready``.
"""

from __future__ import annotations

import threading
import time

import orjson
from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import exceptions
from rest_framework import serializers as fields
from rest_framework.authentication import SessionAuthentication, get_authorization_header
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.utils import encoders
from rest_framework.views import APIView

from neural.api.auth import TokenAuthentication
from neural.api.parsers import check_body
from neural.api.throttles import PredictRateThrottle
from neural.errors import DataError
from neural.serving.serializers import PredictBatchSerializer, PredictSerializer, RecommendSerializer
from neural.serving.services import predict, recommend

TOKEN_TTL_S = 2.0  # a token deleted (or a user deactivated) in another process stops working within this
_tokens: dict[str, tuple[float, AuthToken]] = {}
_tokens_lock = threading.Lock()


class CachedTokenAuthentication(TokenAuthentication):
    """knox's (hashed) token check, with each valid token's answer kept ``TOKEN_TTL_S`` seconds
    per process.

    Unknown tokens are never cached (each is asked again); deleting a token, saving or deleting a
    user, or changing a user's groups, in this process forgets the cached answers at once. A token
    past its expiry is not served from the cache either. A token answered from the cache was
    checked, and its address's failed-check count read, within ``TOKEN_TTL_S`` (it is not a guess):
    only a token the cache does not hold meets ``TokenFailureThrottle`` (a cache round trip) again.
    """

    def authenticate(self, request):
        auth = get_authorization_header(request).split()
        if len(auth) == 2 and auth[0].lower() == self.authenticate_header(request).encode().lower():
            known = _cached(auth[1].decode("utf-8", "replace"))
            if known is not None:
                return known.user, known
        return super().authenticate(request)

    def authenticate_credentials(self, token: bytes):
        user, token_row = super().authenticate_credentials(token)
        with _tokens_lock:
            if len(_tokens) >= 10_000:
                _tokens.clear()
            _tokens[token.decode("utf-8", "replace")] = (time.monotonic() + TOKEN_TTL_S, token_row)
        return user, token_row


def _cached(key: str) -> AuthToken | None:
    known = _tokens.get(key)
    if known is None or known[0] <= time.monotonic():
        return None
    expiry = known[1].expiry
    return known[1] if expiry is None or expiry > timezone.now() else None


class CachedTokenScheme(KnoxTokenScheme):
    """The OpenAPI security scheme of ``CachedTokenAuthentication``: the same header as knox's
    scheme, under its own name (one name for two classes makes drf-spectacular's schema ambiguous)."""

    target_class = CachedTokenAuthentication
    name = "cachedTokenAuth"
    priority = 1


def forget_tokens(**_signal_kwargs) -> None:
    with _tokens_lock:
        _tokens.clear()


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
    throttle_classes = [PredictRateThrottle]  # DRF's sliding window, most requests without a round trip
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
