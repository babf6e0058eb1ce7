"""REST for cross-validations: POST cross-validations (202), GET list and detail, the out-of-fold
predictions as CSV, and POST cross-validations/{id}/train (a session with the measured options)."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from neural.datasets.models import Pattern
from neural.datasets.selectors import dataset_get
from neural.datasets.serializers import name_validator
from neural.engine.crossval import MAX_FOLDS
from neural.errors import DataError, named_in_body
from neural.training.crossval import cross_validation_start, cross_validation_train
from neural.training.crossval_selectors import (
    cross_validation_get,
    cross_validation_list,
    cross_validation_predictions_csv,
    cross_validation_report,
)
from neural.training.models import CrossValidation
from neural.training.serializers import SessionSerializer


class CrossValidationRequestSerializer(serializers.Serializer):
    pattern_type = serializers.ChoiceField(choices=Pattern.choices, required=False, help_text="with training_data")
    model = serializers.CharField(
        required=False, max_length=120, help_text="instead of pattern_type: name or name:vN, whose options are the base"
    )
    training_data = serializers.CharField(
        required=False, max_length=120, help_text="data set name or name:vN (default with model: the model's)"
    )
    folds = serializers.IntegerField(min_value=2, max_value=MAX_FOLDS, default=5)
    stratified = serializers.BooleanField(default=False, help_text="keep each class's share in every fold")
    group_column = serializers.CharField(required=False, max_length=200, help_text="rows of one value stay together")
    time_column = serializers.CharField(required=False, max_length=200, help_text="forward-chaining folds by time")
    epochs = serializers.IntegerField(required=False, min_value=1, max_value=100_000)
    config = serializers.DictField(required=False, default=dict, help_text="training options (learning_rate, ...)")
    model_name = serializers.CharField(required=False, max_length=100, validators=[name_validator])

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("pattern_type") and not attrs.get("model"):
            raise serializers.ValidationError({"pattern_type": "give pattern_type (with training_data) or model"})
        if attrs.get("pattern_type") and attrs.get("model"):
            raise serializers.ValidationError({"model": "give pattern_type or model, not both"})
        if attrs.get("pattern_type") and not attrs.get("training_data"):
            raise serializers.ValidationError({"training_data": "name the data set to cross-validate on"})
        return attrs


class CrossValidationSerializer(serializers.ModelSerializer):
    cross_validation_id = serializers.IntegerField(source="pk", read_only=True)
    dataset = serializers.StringRelatedField()

    class Meta:
        model = CrossValidation
        fields = [
            "cross_validation_id",
            "status",
            "dataset",
            "pattern",
            "model_name",
            "task",
            "method",
            "folds",
            "rows",
            "summary",
            "error",
            "created_at",
            "finished_at",
        ]


class CrossValidationTrainSerializer(serializers.Serializer):
    model_name = serializers.CharField(required=False, max_length=100, validators=[name_validator])
    session_name = serializers.CharField(
        required=False, allow_blank=True, max_length=100, default="", validators=[name_validator]
    )


class CrossValidationView(generics.ListAPIView):
    """POST starts a cross-validation (202 at once; one Celery task per fold); GET lists them."""

    serializer_class = CrossValidationSerializer

    def get_queryset(self):
        return cross_validation_list()

    @extend_schema(request=CrossValidationRequestSerializer, responses={202: OpenApiTypes.OBJECT})
    def post(self, request):
        body = CrossValidationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        dataset = None
        if data.get("training_data"):
            with named_in_body("training_data"):
                dataset = dataset_get(ref=data["training_data"])
        options = dict(data["config"])
        if "epochs" in data:
            options["epochs"] = data["epochs"]
        cv = cross_validation_start(
            user=request.user,
            dataset=dataset,
            model_name=data.get("model") or data.get("model_name"),
            pattern=data.get("pattern_type"),
            folds=data["folds"],
            stratified=data["stratified"],
            group_column=data.get("group_column"),
            time_column=data.get("time_column"),
            options=options,
            from_request=True,
        )
        return Response(cross_validation_report(cv=cv), status=status.HTTP_202_ACCEPTED)


class CrossValidationDetailView(APIView):
    """The folds side by side (status, rows, metrics), the summary (mean, sd, 95% interval of
    each figure) and the sessions trained with these options."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, cv_id: int):
        return Response(cross_validation_report(cv=cross_validation_get(cv_id=cv_id)))


class CrossValidationPredictionsView(APIView):
    """Out-of-fold predictions as CSV (streamed, fold after fold): row, fold, truth, prediction,
    p_<class>..."""

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, cv_id: int):
        cv = cross_validation_get(cv_id=cv_id)
        if not cv.fold_rows.filter(status="succeeded").exists():
            raise DataError(f"{cv} has no finished fold yet", field="cross_validation")
        lines = cross_validation_predictions_csv(cv=cv)
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="cross-validation-{cv.pk}-predictions.csv"'
        return response


class CrossValidationTrainView(APIView):
    """Train a model with the options a finished cross-validation measured, on its data set; the
    session's config records ``cross_validation_id``. 409 while it has not succeeded."""

    @extend_schema(request=CrossValidationTrainSerializer, responses={202: SessionSerializer})
    def post(self, request, cv_id: int):
        cv = cross_validation_get(cv_id=cv_id)
        body = CrossValidationTrainSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        session = cross_validation_train(user=request.user, cv=cv, **body.validated_data)
        return Response(SessionSerializer(session).data, status=status.HTTP_202_ACCEPTED)
