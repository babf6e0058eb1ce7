"""Registered models, their versions (immutable artifacts) and the activation history."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from neural.datasets.models import Pattern
from neural.engine.metrics import per_class_from_confusion


class RegisteredModel(models.Model):
    name = models.CharField(max_length=100, unique=True)
    pattern = models.CharField(max_length=20, choices=Pattern.choices)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Gradual rollout: ``candidate`` answers ``candidate_weight`` percent of predictions, the
    # active version the rest (sticky per caller key when one is given).
    candidate = models.ForeignKey("ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    candidate_weight = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)], help_text="percent of traffic"
    )
    rollout_started_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def active_version(self) -> ModelVersion | None:
        """The version that answers predictions: at most one (``one_active_version_per_model``)."""
        return self.versions.filter(is_active=True).first()


class ModelVersion(models.Model):
    class Kind(models.TextChoices):
        NETWORK = "network", "single network"
        ENSEMBLE = "ensemble"

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    session = models.ForeignKey(
        "training.TrainingSession", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Null only for a version imported with `neural load` whose data set is not on this install;
    # model.json still names the data set and its checksum.
    dataset = models.ForeignKey(
        "datasets.Dataset", null=True, blank=True, on_delete=models.PROTECT, related_name="model_versions"
    )
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    task = models.CharField(max_length=20)
    metrics = models.JSONField(default=dict)
    test_metrics = models.JSONField(default=dict)
    classes = models.JSONField(default=list, blank=True, help_text="class labels, in confusion-matrix order")
    confusion_matrix = models.JSONField(null=True, blank=True, help_text="held-out test split; rows = truth")
    config = models.JSONField(default=dict)
    split = models.JSONField(default=dict)
    artifact_path = models.CharField(max_length=500, help_text="relative to MODEL_STORAGE_PATH")
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the artifact's SHA256SUMS file")
    size_bytes = models.PositiveBigIntegerField(default=0)
    n_parameters = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=False)
    compression = models.CharField(max_length=10, blank=True, help_text="'zstd' when the files are compressed")
    robustness = models.JSONField(
        default=dict, blank=True, help_text="the latest `neural robustness` report (registry/robustness.py)"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.NETWORK)
    # An ensemble's pinned member versions, in its order (EnsembleMember.position).
    members = models.ManyToManyField(
        "self", through="EnsembleMember", symmetrical=False, related_name="ensembles", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="model_version_unique"),
            # Exactly one active version per model, enforced by the database itself.
            models.UniqueConstraint(fields=["model"], condition=Q(is_active=True), name="one_active_version_per_model"),
        ]

    def __str__(self) -> str:
        return f"{self.model.name}:v{self.version}"

    @property
    def label(self) -> str:
        return f"v{self.version}"

    def per_class(self) -> dict | None:
        """Precision, detection rate (recall), false-positive rate, F1 and support per class on the
        held-out test split, and the decision threshold of a binary classifier, from the stored
        confusion matrix (so versions trained before these figures existed have them too); None
        for a regression or a version without a test split."""
        if not self.confusion_matrix or not self.classes:
            return None
        return per_class_from_confusion(self.confusion_matrix, self.classes)


class EnsembleMember(models.Model):
    """One pinned member of an ensemble version. A member cannot be deleted while an ensemble
    uses it (RESTRICT), unless the ensemble goes in the same deletion (a model holding both)."""

    ensemble = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="member_links")
    member = models.ForeignKey(ModelVersion, on_delete=models.RESTRICT, related_name="ensemble_links")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["ensemble", "position"]
        constraints = [
            models.UniqueConstraint(fields=["ensemble", "position"], name="ensemble_member_position_unique"),
            models.UniqueConstraint(fields=["ensemble", "member"], name="ensemble_member_unique"),
        ]


class ActivationEvent(models.Model):
    class Action(models.TextChoices):
        ACTIVATE = "activate"
        ROLLBACK = "rollback"
        DELETE = "delete"
        ROLLOUT = "rollout", "rollout started"
        PROMOTE = "promote", "candidate promoted"
        ABORT = "abort", "rollout rolled back"
        IMPORT = "import", "imported"
        DEPLOY = "deploy", "deployed (validated; already active)"

    model = models.ForeignKey(RegisteredModel, null=True, on_delete=models.SET_NULL, related_name="activation_events")
    model_name = models.CharField(max_length=100)
    action = models.CharField(max_length=10, choices=Action.choices)
    from_version = models.PositiveIntegerField(null=True, blank=True)
    to_version = models.PositiveIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=200, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
