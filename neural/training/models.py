"""Training sessions, their per-epoch metrics and log lines, and worker heartbeats."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from neural.datasets.models import Pattern


class TrainingSession(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        STOPPED = "stopped"

    TERMINAL = (Status.SUCCEEDED, Status.FAILED, Status.STOPPED)

    name = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.PROTECT, related_name="sessions")
    pattern = models.CharField(max_length=20, choices=Pattern.choices)
    model_name = models.CharField(max_length=100)
    config = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    epoch = models.PositiveIntegerField(default=0)
    epochs = models.PositiveIntegerField()
    stop_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    model_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ran_in = models.CharField(
        max_length=200, blank=True, help_text="worker hostname, or 'cli' for --wait without a worker"
    )
    claimed_by = models.CharField(
        max_length=200, blank=True, help_text="token of the process running it; only that process writes it"
    )
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="last sign of life of the running process; stale means it died"
    )
    resumed_count = models.PositiveIntegerField(default=0)
    parent_version = models.ForeignKey(
        "registry.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="retrain / simplify: the version this one derives from",
    )
    distil_params = models.PositiveIntegerField(
        null=True, blank=True, help_text="simplify: distil parent_version into at most this many parameters"
    )
    fine_tune = models.BooleanField(
        default=False, help_text="transfer: start from parent_version's network and inputs, fine-tune on dataset"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # `--session NAME` and `train/{name}` find one session: a name is unique per model.
            models.UniqueConstraint(
                fields=["model_name", "name"], condition=~Q(name=""), name="session_name_unique_per_model"
            )
        ]

    def __str__(self) -> str:
        return f"session {self.pk} ({self.model_name}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.TERMINAL


class EpochMetric(models.Model):
    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE, related_name="epoch_metrics")
    epoch = models.PositiveIntegerField()
    train_loss = models.FloatField()
    val_loss = models.FloatField()
    val_accuracy = models.FloatField(null=True, blank=True)
    lr = models.FloatField()
    elapsed_s = models.FloatField()
    metrics = models.JSONField(default=dict, help_text="every per-epoch figure, val_* included")

    class Meta:
        ordering = ["session", "epoch"]
        constraints = [models.UniqueConstraint(fields=["session", "epoch"], name="epoch_metric_unique")]


class SessionLog(models.Model):
    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE, related_name="log_lines")
    created_at = models.DateTimeField(auto_now_add=True)
    level = models.CharField(max_length=10, default="info")
    message = models.TextField()

    class Meta:
        ordering = ["session", "id"]


class WorkerHeartbeat(models.Model):
    """Written every few seconds by each live Celery worker; `--wait` reads it."""

    hostname = models.CharField(max_length=255, unique=True)
    last_seen = models.DateTimeField()


class TuningJob(models.Model):
    """A hyperparameter search over one model version's data set and config (`neural
    hyper-optimize`). Its trials live in an Optuna study in the same database (``study_name``),
    which is how the Celery workers running them share what each has tried."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    model_version = models.ForeignKey("registry.ModelVersion", on_delete=models.CASCADE, related_name="tuning_jobs")
    method = models.CharField(max_length=10)
    space = models.CharField(
        max_length=20, default="hyper", help_text="hyper (hyper-optimize), or an architecture-search space"
    )
    objective = models.CharField(max_length=20, help_text="the --optimize name, e.g. accuracy")
    direction = models.CharField(max_length=8)
    trials = models.PositiveIntegerField(help_text="trials to run in all, over every worker")
    trials_claimed = models.PositiveIntegerField(default=0, help_text="trials some runner has started")
    epochs = models.PositiveIntegerField(help_text="epochs per trial at most (early stopping still applies)")
    seed = models.IntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    best_value = models.FloatField(null=True, blank=True)
    best_params = models.JSONField(default=dict, blank=True)
    best_trial = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"tuning job {self.pk} ({self.method}, {self.status})"

    @property
    def study_name(self) -> str:
        return f"photondrift-tuning-{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
