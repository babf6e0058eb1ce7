"""Training sessions, their per-epoch metrics and log lines, and worker heartbeats."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.fields.json import KeyTransform

from neural.datasets.models import Pattern


class TrainingRun(models.Model):
    """One `neural train --config F` without --pattern: the sessions of every model the file
    names, grouped. ``config`` records what the file asked for (source, advanced blocks, data
    sources as resolved), so a run says how its sessions came to be."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    source = models.CharField(max_length=500, help_text="the training file's path as given")
    config = models.JSONField(default=dict, help_text="{advanced: {...}, data_sources: {...}}")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.source})"


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
    run = models.ForeignKey(
        TrainingRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sessions",
        help_text="the `--config` run this session belongs to",
    )
    search = models.JSONField(
        default=dict,
        blank=True,
        help_text="advanced.hyperparameter_tuning: {method, trials, space} before training, plus the outcome after",
    )
    tags = models.JSONField(default=list, blank=True, help_text="short labels an operator sets (PATCH train/{id})")
    notes = models.TextField(blank=True, help_text="free text an operator writes about the run")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # The runs table's (/sessions/) default sorts and its common filters, with the id as
        # tie-break so a page is an index range scan at any offset.
        indexes = [
            models.Index(F("created_at").desc(), F("id").desc(), name="session_created"),
            models.Index(F("started_at").desc(), F("id").desc(), name="session_started"),
            models.Index("status", F("started_at").desc(), F("id").desc(), name="session_status_started"),
            models.Index("model_name", F("created_at").desc(), name="session_model_created"),
            # A cross-validation's report finds the sessions trained from it by the id their
            # config records (config__cross_validation_id): an index lookup, not a scan.
            models.Index(KeyTransform("cross_validation_id", "config"), name="session_cross_validation"),
        ]
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
    is_best = models.BooleanField(default=False, help_text="validation loss improved on every earlier epoch")
    rss_bytes = models.BigIntegerField(null=True, blank=True, help_text="resident memory of the training process")
    cpu_percent = models.FloatField(null=True, blank=True, help_text="CPU of the training process over the epoch")
    gpu_bytes = models.BigIntegerField(null=True, blank=True, help_text="peak GPU memory in the epoch, if on a GPU")

    class Meta:
        ordering = ["session", "epoch"]
        constraints = [models.UniqueConstraint(fields=["session", "epoch"], name="epoch_metric_unique")]
        # The best epoch of a million-epoch run in one index step (the page marks it).
        indexes = [
            models.Index(fields=["session", "epoch"], condition=models.Q(is_best=True), name="epoch_metric_best")
        ]


class EpochSummary(models.Model):
    """First, last, min and max (with the epoch of each) of every figure over one block of
    ``width`` epochs: block ``b`` holds epochs ``b * width + 1 .. (b + 1) * width``. A long
    series is read at a coarse resolution from these instead of from every epoch row
    (neural/training/series.py keeps and reads them)."""

    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE, related_name="epoch_summaries")
    width = models.PositiveIntegerField()
    block = models.PositiveIntegerField()
    first_epoch = models.PositiveIntegerField()
    last_epoch = models.PositiveIntegerField()
    stats = models.JSONField(help_text="{figure: [first, last, min, epoch of min, max, epoch of max]}")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["session", "width", "block"], name="epoch_summary_unique")]


class StepMetric(models.Model):
    """Batch loss during an epoch, at most a few per second (SessionProgress rate-limits it), so
    a long epoch still shows a moving curve. ``step`` counts batches from the start of the run."""

    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE, related_name="step_metrics")
    step = models.PositiveBigIntegerField()
    epoch = models.PositiveIntegerField()
    loss = models.FloatField()
    elapsed_s = models.FloatField()

    class Meta:
        ordering = ["session", "step"]
        constraints = [models.UniqueConstraint(fields=["session", "step"], name="step_metric_unique")]


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
        CANCELLED = "cancelled"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

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
        return self.status not in self.ACTIVE


class CrossValidation(models.Model):
    """k-fold cross-validation of one set of training options on one data set (`neural
    cross-validate`, POST cross-validations). Each fold is a CrossValidationFold trained by its own
    Celery task; the task that finishes the last fold writes ``summary``."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    TERMINAL = (Status.SUCCEEDED, Status.FAILED)

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.PROTECT, related_name="cross_validations")
    pattern = models.CharField(max_length=20, choices=Pattern.choices)
    model_name = models.CharField(max_length=100, help_text="the model a training with these options adds to")
    model_version = models.ForeignKey(
        "registry.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="--model: the version whose options are cross-validated",
    )
    config = models.JSONField(help_text="the training options every fold uses (TrainConfig)")
    task = models.CharField(max_length=12, help_text="binary, multiclass or regression")
    method = models.CharField(max_length=20, help_text="kfold, stratified, group, stratified_group or time")
    folds = models.PositiveSmallIntegerField()
    stratified = models.BooleanField(default=False)
    group_column = models.CharField(max_length=200, blank=True)
    time_column = models.CharField(max_length=200, blank=True)
    seed = models.IntegerField()
    rows = models.PositiveIntegerField(help_text="labelled rows divided into folds")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True)
    summary = models.JSONField(
        default=dict, blank=True, help_text="{figure: {values, mean, sd, ci_low, ci_high, confidence}}"
    )
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"cross-validation {self.pk} ({self.model_name}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.TERMINAL


class CrossValidationFold(models.Model):
    """One fold: trained on the other folds' rows, scored on its own; its out-of-fold
    predictions are kept here, columnar (``predictions``: row, prediction, classes, probabilities)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    cross_validation = models.ForeignKey(CrossValidation, on_delete=models.CASCADE, related_name="fold_rows")
    index = models.PositiveSmallIntegerField(help_text="0-based")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    train_rows = models.PositiveIntegerField(default=0)
    test_rows = models.PositiveIntegerField(default=0)
    epoch = models.PositiveIntegerField(default=0, help_text="epochs trained so far")
    best_epoch = models.PositiveIntegerField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="score_frame on the held-out rows")
    predictions = models.JSONField(default=dict, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    ran_in = models.CharField(max_length=200, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True, help_text="token of the process running it")
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="last sign of life of that process")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="times re-queued after its process died")
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["cross_validation", "index"]
        constraints = [models.UniqueConstraint(fields=["cross_validation", "index"], name="cv_fold_unique")]

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


class EnsembleJob(models.Model):
    """``advanced.ensemble``: K member sessions (bagged rows, own seeds) trained as Celery work;
    once all have finished, ``neural/training/ensembles.py: ensemble_job_settle`` creates the
    ensemble version from their versions (or records why it could not)."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SETTLING = "settling", "creating the ensemble"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    dataset = models.ForeignKey("datasets.Dataset", on_delete=models.PROTECT, related_name="ensemble_jobs")
    model_name = models.CharField(max_length=100, help_text="the ensemble's model; members are <name>-members")
    method = models.CharField(max_length=40, help_text="comma-separated: one ensemble version each")
    base_models = models.PositiveSmallIntegerField()
    sessions = models.ManyToManyField(TrainingSession, related_name="ensemble_jobs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True)
    model_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
