from __future__ import annotations

from rest_framework import serializers

from neural.datasets.models import Pattern
from neural.datasets.serializers import name_validator
from neural.engine import tuning
from neural.training.models import EpochMetric, SessionLog, TrainingRun, TrainingSession, TuningJob
from neural.training.tuning import MAX_TRIALS


class TrainRequestSerializer(serializers.Serializer):
    pattern_type = serializers.ChoiceField(choices=Pattern.choices)
    training_data = serializers.CharField(max_length=120, help_text="data set name, or name:vN")
    epochs = serializers.IntegerField(required=False, min_value=1, max_value=100_000)
    config = serializers.DictField(
        required=False,
        default=dict,
        help_text="training options (learning_rate, ...; preset: fast, default or best, under the others)",
    )
    session_name = serializers.CharField(
        required=False, allow_blank=True, max_length=100, default="", validators=[name_validator]
    )
    model_name = serializers.CharField(required=False, max_length=100, validators=[name_validator])


class SessionSerializer(serializers.ModelSerializer):
    session_id = serializers.IntegerField(source="pk", read_only=True)
    dataset = serializers.StringRelatedField()
    model_version = serializers.StringRelatedField(allow_null=True, help_text="null until it succeeds")

    class Meta:
        model = TrainingSession
        fields = [
            "session_id",
            "name",
            "status",
            "pattern",
            "model_name",
            "dataset",
            "epoch",
            "epochs",
            "config",
            "metrics",
            "error",
            "model_version",
            "run",
            "search",
            "ran_in",
            "resumed_count",
            "tags",
            "notes",
            "created_at",
            "started_at",
            "finished_at",
        ]


class RunSerializer(serializers.ModelSerializer):
    """A `neural train --config F` run: what the file asked for and how many sessions it made."""

    run_id = serializers.IntegerField(source="pk", read_only=True)
    session_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = TrainingRun
        fields = ["run_id", "source", "config", "session_count", "created_at"]


class RunRequestSerializer(serializers.Serializer):
    config = serializers.CharField(
        max_length=100_000, trim_whitespace=False, help_text="the text of a .neural-training.yml (seed shape)"
    )
    epochs = serializers.IntegerField(required=False, min_value=1, max_value=100_000, help_text="overrides the file")


class RunDetailSerializer(RunSerializer):
    sessions = SessionSerializer(many=True, read_only=True)

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "sessions"]


TAG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,39}$"


class SessionAnnotateSerializer(serializers.Serializer):
    """PATCH train/{id}: an operator's tags and notes; a field left out is left as it is."""

    tags = serializers.ListField(
        child=serializers.RegexField(
            TAG_PATTERN, error_messages={"invalid": "a tag is 1-40 letters, digits or _.:+- (no spaces, no /)"}
        ),
        max_length=20,
        required=False,
    )
    notes = serializers.CharField(max_length=10_000, allow_blank=True, required=False, trim_whitespace=False)


class SessionStatusSerializer(serializers.ModelSerializer):
    session_id = serializers.IntegerField(source="pk", read_only=True)
    progress = serializers.SerializerMethodField()
    eta_s = serializers.SerializerMethodField()
    metrics = serializers.SerializerMethodField()
    model_version = serializers.StringRelatedField(allow_null=True, help_text="null until it succeeds")

    class Meta:
        model = TrainingSession
        fields = [
            "session_id",
            "name",
            "status",
            "epoch",
            "epochs",
            "progress",
            "metrics",
            "error",
            "model_version",
            "started_at",
            "finished_at",
            "eta_s",
        ]

    def get_progress(self, obj: TrainingSession) -> float:
        return 1.0 if obj.status == TrainingSession.Status.SUCCEEDED else round(obj.epoch / max(obj.epochs, 1), 4)

    def get_metrics(self, obj: TrainingSession) -> dict:
        if obj.metrics:
            return obj.metrics
        last = obj.epoch_metrics.order_by("-epoch").first()
        return last.metrics if last else {}

    def get_eta_s(self, obj: TrainingSession) -> float | None:
        # Upper bound: early stopping may end the run sooner.
        last = obj.epoch_metrics.order_by("-epoch").first()
        if obj.is_finished or last is None:
            return None
        return round(last.elapsed_s / last.epoch * (obj.epochs - last.epoch), 1)


class EpochMetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = EpochMetric
        fields = [
            "epoch",
            "train_loss",
            "val_loss",
            "val_accuracy",
            "lr",
            "elapsed_s",
            "metrics",
            "is_best",
            "rss_bytes",
            "cpu_percent",
            "gpu_bytes",
        ]


class SessionLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = SessionLog
        fields = ["id", "created_at", "level", "message"]


class SessionMetricsSerializer(serializers.Serializer):
    """What GET train/{id}/metrics answers (documents the response)."""

    session_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=TrainingSession.Status.choices)
    epochs = EpochMetricSerializer(many=True)


class SessionLogsSerializer(serializers.Serializer):
    """What GET train/{id}/logs answers (documents the response)."""

    session_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=TrainingSession.Status.choices)
    lines = SessionLogSerializer(many=True)


class SearchRequestSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=120, help_text="the base version: model name, or name:vN")
    space = serializers.ChoiceField(
        choices=list(tuning.SPACES), default="hyper", help_text="hyper: training options; efficient, standard: shapes"
    )
    method = serializers.ChoiceField(choices=list(tuning.METHODS), default="bayesian")
    trials = serializers.IntegerField(min_value=1, max_value=MAX_TRIALS, default=20)
    optimize = serializers.CharField(
        required=False, max_length=20, help_text="accuracy, macro_f1, roc_auc, loss; r2, mae"
    )
    epochs = serializers.IntegerField(required=False, min_value=1, max_value=100_000, help_text="per trial at most")


class SearchSerializer(serializers.ModelSerializer):
    job_id = serializers.IntegerField(source="pk", read_only=True)
    model_version = serializers.StringRelatedField()

    class Meta:
        model = TuningJob
        fields = [
            "job_id",
            "model_version",
            "space",
            "method",
            "objective",
            "direction",
            "trials",
            "trials_claimed",
            "epochs",
            "status",
            "best_value",
            "best_params",
            "best_trial",
            "error",
            "created_at",
            "finished_at",
        ]
