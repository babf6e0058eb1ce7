from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from neural.api.params import int_param
from neural.api.permissions import IsOperatorOrReadOnly
from neural.errors import DataError, NotFound, named_in_body
from neural.monitoring import alerts as alert_services
from neural.monitoring.models import Alert, AlertRule, RetrainPolicy, RetrainRun
from neural.monitoring.retraining import retrain_policy_set
from neural.monitoring.selectors import accuracy_buckets, alert_list, drift_history
from neural.monitoring.serializers import (
    AlertRuleCreateSerializer,
    AlertRuleSerializer,
    AlertSerializer,
    FeedbackBulkSerializer,
    FeedbackSerializer,
    RetrainPolicyRequestSerializer,
    RetrainPolicySerializer,
    RetrainRunSerializer,
)
from neural.monitoring.services import (
    drift_check,
    drift_report_document,
    feedback_record,
    feedback_record_bulk,
    parse_duration,
    validate_fraction,
)
from neural.registry.selectors import model_get, model_version_resolve


def _feedback_document(fb) -> dict:
    return {
        "prediction_id": str(fb.prediction_id),
        "actual": fb.actual,
        "correct": fb.correct,
        "abs_error": fb.abs_error,
    }


class FeedbackView(APIView):
    @extend_schema(request=FeedbackSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        body = FeedbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        fb = feedback_record(user=request.user, **body.validated_data)
        return Response(_feedback_document(fb), status=status.HTTP_201_CREATED)


class FeedbackBulkView(APIView):
    @extend_schema(request=FeedbackBulkSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        body = FeedbackBulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rows = feedback_record_bulk(items=body.validated_data["items"], user=request.user)
        return Response({"count": len(rows)}, status=status.HTTP_201_CREATED)


def _required(request, name: str) -> str:
    value = request.query_params.get(name)
    if not value:
        raise DataError(f"query parameter {name!r} is required", field=name)
    return value


class AccuracyView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("model", str),
            OpenApiParameter("timeframe", str),
            OpenApiParameter("bucket", str),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        model = model_get(name=_required(request, "model"))
        timeframe = parse_duration(request.query_params.get("timeframe", "30d"), field="timeframe")
        bucket = parse_duration(request.query_params.get("bucket", "1d"), field="bucket")
        return Response(accuracy_buckets(model=model, timeframe=timeframe, bucket=bucket))


class DriftView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("model", str),
            OpenApiParameter("window", str),
            OpenApiParameter("threshold", float),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        version = model_version_resolve(ref=_required(request, "model"))
        window_text = request.query_params.get("window", "1d")
        window = parse_duration(window_text, field="window")
        alpha = validate_fraction(request.query_params.get("threshold", 0.05), field="threshold")
        # A read: computed, not recorded. The drift history holds the scheduled checks (and the
        # ones run from the CLI), which also raise the drift alerts.
        report = drift_check(version=version, window=window, alpha=alpha, store=False)
        return Response(drift_report_document(report, window=window_text))


class DriftHistoryView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("model", str), OpenApiParameter("limit", int)],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        version = model_version_resolve(ref=_required(request, "model"))
        limit = int_param(request, "limit", default=30, minimum=1, maximum=1000)
        reports = drift_history(version=version, limit=limit)
        return Response(
            {
                "model": version.model.name,
                "version": version.label,
                "windows": [
                    {
                        "window_end": r.window_end,
                        "rows": r.rows,
                        "drift_score": r.drift_score,
                        "features": {e["name"]: e["value"] for e in r.features if e["method"] == "psi"},
                    }
                    for r in reports
                ],
            }
        )


class AlertRuleListView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsOperatorOrReadOnly]

    @extend_schema(responses={200: AlertRuleSerializer(many=True)})
    def get(self, request):
        rules = AlertRule.objects.select_related("model")
        if request.query_params.get("model"):
            rules = rules.filter(model__name=request.query_params["model"])
        return Response(AlertRuleSerializer(rules, many=True, context={"request": request}).data)

    @extend_schema(request=AlertRuleCreateSerializer, responses={201: AlertRuleSerializer})
    def post(self, request):
        body = AlertRuleCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        model = model_get(name=data.pop("model"))
        rule = alert_services.alert_rule_create(model=model, **data)
        return Response(AlertRuleSerializer(rule, context={"request": request}).data, status=status.HTTP_201_CREATED)


class AlertListView(generics.ListAPIView):
    serializer_class = AlertSerializer

    def get_queryset(self):
        model = self.request.query_params.get("model")
        return alert_list(
            status=self.request.query_params.get("status"), model=model_get(name=model) if model else None
        ).prefetch_related("deliveries")


def _alert(alert_id: int) -> Alert:
    alert = Alert.objects.select_related("model", "rule").filter(pk=alert_id).first()
    if alert is None:
        raise NotFound(f"alert {alert_id} does not exist", field="alert")
    return alert


class AlertAcknowledgeView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsOperatorOrReadOnly]

    @extend_schema(request=None, responses={200: AlertSerializer})
    def post(self, request, alert_id: int):
        alert = alert_services.alert_acknowledge(alert=_alert(alert_id), user=request.user)
        return Response(AlertSerializer(alert, context={"request": request}).data)


class AlertResolveView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsOperatorOrReadOnly]

    @extend_schema(request=None, responses={200: AlertSerializer})
    def post(self, request, alert_id: int):
        alert = alert_services.alert_resolve(alert=_alert(alert_id))
        return Response(AlertSerializer(alert, context={"request": request}).data)


class RetrainRunListView(generics.ListAPIView):
    serializer_class = RetrainRunSerializer

    def get_queryset(self):
        runs = RetrainRun.objects.select_related("model", "baseline", "candidate", "dataset")
        if self.request.query_params.get("model"):
            runs = runs.filter(model__name=self.request.query_params["model"])
        return runs


class RetrainPolicyView(APIView):
    """GET lists retraining policies (?model=); POST sets one model's schedule (daily, weekly,
    monthly or a cron expression), drift trigger, tolerance and rollout weight."""

    permission_classes = [permissions.IsAuthenticated, IsOperatorOrReadOnly]

    @extend_schema(responses={200: RetrainPolicySerializer(many=True)})
    def get(self, request):
        policies = RetrainPolicy.objects.select_related("model")
        if request.query_params.get("model"):
            policies = policies.filter(model__name=request.query_params["model"])
        return Response(RetrainPolicySerializer(policies, many=True).data)

    @extend_schema(request=RetrainPolicyRequestSerializer, responses={200: RetrainPolicySerializer})
    def post(self, request):
        body = RetrainPolicyRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        with named_in_body("model"):
            model = model_get(name=data.pop("model"))
        policy = retrain_policy_set(model=model, **data)
        return Response(RetrainPolicySerializer(policy).data)
