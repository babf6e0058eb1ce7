"""Training hyperparameters, validated; unknown keys are errors that name the key."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields, replace

import torch
import torch.distributed

from neural.engine.errors import DataError

LR_SCHEDULES = ("plateau", "onecycle", "cosine")
NORMS = ("batch", "layer", "none")
REGRESSION_LOSSES = ("huber", "mse")
NUMERIC_SCALINGS = ("robust", "quantile")
PARALLEL_BACKENDS = ("gloo", "nccl")
ARCHITECTURES = ("mlp", "tabm")
NUM_EMBEDDINGS = ("piecewise", "periodic", "none")
BAGGINGS = ("bootstrap", "none")

# Options left unset (None) take their task's default when training starts. Chosen with
# benchmarks/model_quality.py (3 to 6 seeds, every real data set and generator pattern, the same
# for all): for classification, layer normalisation and dropout 0.3 beat batch normalisation and
# 0.1 on every real data set; for regression they cost R², so it keeps batch normalisation and 0.1.
TASK_DEFAULTS = {
    "classification": {"norm": "layer", "dropout": 0.3},
    "regression": {"norm": "batch", "dropout": 0.1},
}
# TabM has no normalisation layers. Its dropout is the `default` preset's (round 2 of
# docs/model-quality.md: 0, where the TabM paper's default is 0.1).
ARCHITECTURE_DEFAULTS = {"tabm": {"norm": "none", "dropout": 0.0}}
# ``hidden_sizes`` left unset: the MLP's (the product's network before TabM) or the `default`
# preset's TabM width and depth.
HIDDEN_SIZES = {"mlp": [256, 128], "tabm": [64, 64]}
# A network a request may ask for: 16 layers of 4,096 units (about 270M weights, a few GB with the
# optimizer's state) at most, so that no training request can take a worker's memory.
MAX_LAYERS, MAX_WIDTH = 16, 4096


@dataclass
class TrainConfig:
    epochs: int = 60
    batch_size: int = 256
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    dropout: float | None = None  # None: the task's default (TASK_DEFAULTS)
    hidden_sizes: list[int] | None = None  # None: the architecture's (HIDDEN_SIZES)
    early_stopping: bool = True
    patience: int = 10
    validation_split: float = 0.2
    test_split: float = 0.1
    lr_schedule: str = "plateau"
    grad_clip: float = 1.0
    class_weights: bool = False
    seed: int = 42
    gpu: bool = False
    mixed_precision: bool = False
    residual: bool = False
    norm: str | None = None  # None: the task's default (TASK_DEFAULTS)
    regression_loss: str = "huber"
    label_smoothing: float = 0.0
    # A quantile transform to normal scores: better than robust scaling on every real data set
    # of benchmarks/model_quality.py (most on heavy-tailed counts such as the email features).
    numeric_scaling: str = "quantile"
    # An ensemble member (neural/training/ensembles.py): its seed (initialisation and batch order;
    # with ``bagging: bootstrap`` also its bootstrap sample of the training rows). The split into
    # training, validation and test rows still follows ``seed``, so every member shares them.
    bagging_seed: int | None = None
    # How a member with a ``bagging_seed`` draws its training rows: "none" (every training row;
    # its seed alone makes it differ: initialisation and batch order) or "bootstrap" (a bootstrap
    # sample). "none" beat "bootstrap" on every dev set (docs/model-quality.md, round 2).
    bagging: str = "none"
    # "mlp": TabularMLP; "tabm": TabM (k weight-sharing members of width max(hidden_sizes) and
    # depth len(hidden_sizes)) over numeric embeddings. See neural/engine/networks.py.
    # The defaults are the `default` preset (neural/engine/presets.py, docs/model-quality.md).
    architecture: str = "tabm"
    num_embeddings: str = "piecewise"  # tabm only
    tabm_k: int = 4  # tabm only: ensemble members
    num_embedding_dim: int = 8  # tabm only: the width of each numeric column's embedding
    # Passed through for the registry (compression, backup); .neural-training.yml validates it.
    model_storage: dict = field(default_factory=dict)
    # Data-parallel training (engine/distributed.py): ``workers`` processes, each on its share of
    # every batch. ``parallel_backend`` None: nccl when each process has its own CUDA GPU, else gloo.
    parallel: bool = False
    workers: int | None = None
    parallel_backend: str | None = None
    # Provenance only (training ignores it): the cross-validation whose options these are
    # (`neural train --from-cv ID`, POST cross-validations/{id}/train).
    cross_validation_id: int | None = None

    def __post_init__(self) -> None:
        if self.hidden_sizes is None:
            self.hidden_sizes = list(HIDDEN_SIZES.get(self.architecture, HIDDEN_SIZES["mlp"]))

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DataError(f"unknown training option {unknown[0]!r}", field=unknown[0])
        config = cls(**data)
        config.validate()
        return config

    def to_dict(self) -> dict:
        return asdict(self)

    def for_task(self, classification: bool) -> TrainConfig:
        """This config with the options left unset filled in with the task's defaults."""
        defaults = {
            **TASK_DEFAULTS["classification" if classification else "regression"],
            **ARCHITECTURE_DEFAULTS.get(self.architecture, {}),
        }
        return replace(self, **{k: v for k, v in defaults.items() if getattr(self, k) is None})

    @property
    def device(self) -> torch.device:
        return torch.device("cuda" if self.gpu else "cpu")

    def validate(self) -> None:
        checks = [
            ("epochs", _is_int(self.epochs) and self.epochs > 0, "must be a whole number > 0"),
            ("batch_size", _is_int(self.batch_size) and self.batch_size > 1, "must be a whole number > 1"),
            ("learning_rate", _is_num(self.learning_rate) and 0 < self.learning_rate < 10, "must be in (0, 10)"),
            ("weight_decay", _is_num(self.weight_decay) and self.weight_decay >= 0, "must be >= 0"),
            (
                "dropout",
                self.dropout is None or (_is_num(self.dropout) and 0 <= self.dropout < 1),
                "must be in [0, 1)",
            ),
            ("patience", _is_int(self.patience) and self.patience > 0, "must be a whole number > 0"),
            (
                "validation_split",
                _is_num(self.validation_split) and 0 < self.validation_split < 0.9,
                "must be in (0, 0.9)",
            ),
            ("test_split", _is_num(self.test_split) and 0 <= self.test_split < 0.5, "must be in [0, 0.5)"),
            *[(flag, isinstance(getattr(self, flag), bool), "must be true or false") for flag in _FLAGS],
            ("lr_schedule", self.lr_schedule in LR_SCHEDULES, f"must be one of {', '.join(LR_SCHEDULES)}"),
            ("grad_clip", _is_num(self.grad_clip) and self.grad_clip >= 0, "must be >= 0"),
            ("seed", _is_int(self.seed), "must be a whole number"),
            (
                "bagging_seed",
                self.bagging_seed is None or (_is_int(self.bagging_seed) and self.bagging_seed >= 0),
                "must be a whole number >= 0 or null",
            ),
            ("norm", self.norm is None or self.norm in NORMS, f"must be one of {', '.join(NORMS)}"),
            (
                "regression_loss",
                self.regression_loss in REGRESSION_LOSSES,
                f"must be one of {', '.join(REGRESSION_LOSSES)}",
            ),
            (
                "numeric_scaling",
                self.numeric_scaling in NUMERIC_SCALINGS,
                f"must be one of {', '.join(NUMERIC_SCALINGS)}",
            ),
            (
                "label_smoothing",
                _is_num(self.label_smoothing) and 0 <= self.label_smoothing < 1,
                "must be in [0, 1)",
            ),
            (
                "architecture",
                self.architecture in ARCHITECTURES,
                f"must be one of {', '.join(ARCHITECTURES)}",
            ),
            (
                "num_embeddings",
                self.num_embeddings in NUM_EMBEDDINGS,
                f"must be one of {', '.join(NUM_EMBEDDINGS)}",
            ),
            ("tabm_k", _is_int(self.tabm_k) and 1 <= self.tabm_k <= 64, "must be a whole number in [1, 64]"),
            (
                "num_embedding_dim",
                _is_int(self.num_embedding_dim) and 1 <= self.num_embedding_dim <= 64,
                "must be a whole number in [1, 64]",
            ),
            ("bagging", self.bagging in BAGGINGS, f"must be one of {', '.join(BAGGINGS)}"),
            ("model_storage", isinstance(self.model_storage, dict), "must be a mapping"),
            (
                "cross_validation_id",
                self.cross_validation_id is None
                or (_is_int(self.cross_validation_id) and self.cross_validation_id > 0),
                "must be a cross-validation id",
            ),
            (
                "hidden_sizes",
                isinstance(self.hidden_sizes, list)
                and 0 < len(self.hidden_sizes) <= MAX_LAYERS
                and all(_is_int(h) and 0 < h <= MAX_WIDTH for h in self.hidden_sizes),
                f"must be a list of 1 to {MAX_LAYERS} whole numbers from 1 to {MAX_WIDTH}",
            ),
        ]
        for name, ok, message in checks:
            if not ok:
                raise DataError(f"{name} {message}, got {getattr(self, name)!r}", field=name)
        if self.validation_split + self.test_split >= 0.9:
            raise DataError(
                "validation_split + test_split must leave at least 10% for training", field="validation_split"
            )
        if self.gpu and not torch.cuda.is_available():
            raise DataError("gpu was requested but no CUDA GPU is available on this machine", field="gpu")
        if self.architecture == "tabm":  # the MLP's options would be accepted and ignored
            if self.residual:
                raise DataError(
                    "residual blocks are the MLP's: set architecture to mlp (--preset fast)", field="residual"
                )
            if self.norm not in (None, "none"):
                raise DataError(
                    f"norm {self.norm!r} is the MLP's (TabM has no normalisation layer): set architecture to mlp"
                    " (--preset fast)",
                    field="norm",
                )
        self._validate_parallel()

    def _validate_parallel(self) -> None:
        """Refuse what data-parallel training cannot do here, naming the option at fault."""
        if not self.parallel:
            for name in ("workers", "parallel_backend"):
                if getattr(self, name) is not None:
                    raise DataError(f"{name} is for data-parallel training: set parallel to true", field=name)
            return
        problem = _parallel_problem(self)
        if problem is not None:
            raise DataError(problem[1], field=problem[0])


def _parallel_problem(config: TrainConfig) -> tuple[str, str] | None:
    """(option, message): why ``config``'s data-parallel training cannot run here, or None. Each
    check assumes the ones before it passed."""
    workers, cores = config.workers, os.cpu_count() or 1
    if not torch.distributed.is_available():
        return "parallel", "parallel needs torch.distributed, which this torch build lacks"
    elif workers is None:
        return "workers", "workers must be given with parallel: the number of processes, 2 or more"
    elif not _is_int(workers) or workers < 2:
        return "workers", f"workers must be a whole number >= 2, got {workers!r}"
    elif cores < 2:
        return "workers", f"no second process possible: this machine has {cores} CPU core"
    elif workers > cores:
        return "workers", f"workers must be at most {cores}, the CPU cores of this machine; got {workers}"
    elif config.batch_size < 2 * workers:
        return (
            "workers",
            f"{workers} processes each need 2 rows of every batch: batch_size must be at least {2 * workers}, "
            f"got {config.batch_size}",
        )
    elif config.parallel_backend is not None and config.parallel_backend not in PARALLEL_BACKENDS:
        return (
            "parallel_backend",
            f"parallel_backend must be one of {', '.join(PARALLEL_BACKENDS)}, got {config.parallel_backend!r}",
        )
    elif config.parallel_backend == "nccl":
        gpus = torch.cuda.device_count()
        if not config.gpu:
            return "parallel_backend", "nccl trains on CUDA GPUs: set gpu to true, or use gloo"
        elif not torch.distributed.is_nccl_available():
            return "parallel_backend", "nccl is not in this torch build; use gloo"
        elif workers > gpus:
            return (
                "parallel_backend",
                f"nccl runs one process per GPU and this machine has {gpus}; use gloo or at most {gpus} workers",
            )
    return None


_FLAGS = ("early_stopping", "class_weights", "gpu", "mixed_precision", "residual", "parallel")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_num(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
