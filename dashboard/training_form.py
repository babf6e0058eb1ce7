"""The training form: every option TrainConfig accepts, grouped, each with its default, so the
page can do what `training neural-train` and `.neural-training.yml` do. A test checks that no
option is missing from the groups (a new TrainConfig field must be placed here)."""

from __future__ import annotations

from dataclasses import fields

from neural.datasets.models import Pattern
from neural.datasets.selectors import dataset_list
from neural.engine import config as cfg
from neural.engine import tuning
from neural.engine.presets import BEST_MEMBERS

GROUPS = [
    ("Schedule", ["epochs", "batch_size", "learning_rate", "lr_schedule", "early_stopping", "patience", "seed"]),
    (
        "Network",
        [
            "architecture",
            "hidden_sizes",
            "dropout",
            "norm",
            "residual",
            "num_embeddings",
            "num_embedding_dim",
            "tabm_k",
        ],
    ),
    ("Regularisation and loss", ["weight_decay", "grad_clip", "class_weights", "label_smoothing", "regression_loss"]),
    ("Data", ["validation_split", "test_split", "numeric_scaling"]),
    ("Hardware", ["gpu", "mixed_precision", "parallel", "workers", "parallel_backend"]),
]
# Not training options a form should set: the registry's storage block comes from the YAML file,
# a cross-validation's id is recorded by training from that cross-validation, and an ensemble
# sets each member's bagging seed itself.
NOT_ON_FORM = {"model_storage", "cross_validation_id", "bagging_seed", "bagging"}
CHOICES = {
    "lr_schedule": cfg.LR_SCHEDULES,
    "norm": cfg.NORMS,
    "regression_loss": cfg.REGRESSION_LOSSES,
    "numeric_scaling": cfg.NUMERIC_SCALINGS,
    "architecture": cfg.ARCHITECTURES,
    "num_embeddings": cfg.NUM_EMBEDDINGS,
    "parallel_backend": cfg.PARALLEL_BACKENDS,
}
INTS = {"workers"}  # whole numbers whose default is None (unset)
HELP = {
    "epochs": "at most; early stopping may end sooner",
    "patience": "epochs without a better validation loss before stopping",
    "hidden_sizes": "units per hidden layer, comma-separated; empty: 64,64 for tabm, 256,128 for mlp",
    "dropout": "empty: 0 for tabm; for mlp the task's (0.3 classification, 0.1 regression)",
    "norm": "mlp only; empty: the task's (layer for classification, batch for regression)",
    "class_weights": "weigh rare classes up in the loss",
    "label_smoothing": "classification only",
    "regression_loss": "regression only",
    "validation_split": "share of rows for validation",
    "test_split": "share of rows held out for the test accuracy",
    "gpu": "needs a CUDA GPU on the worker",
    "architecture": "tabm: TabM, the default preset's network (docs/model-quality.md)",
    "num_embeddings": "tabm only: numeric embeddings",
    "tabm_k": "tabm only: ensemble members",
    "num_embedding_dim": "tabm only: width of each numeric column's embedding",
    "parallel": "data-parallel training in several processes (docs/training.md)",
    "workers": "with parallel: processes, 2 up to the worker's CPU cores",
    "parallel_backend": "with parallel: empty picks nccl for one CUDA GPU each, else gloo",
}


def _kind(name: str, default) -> str:
    if name in CHOICES:
        return "choice"
    if name in INTS:
        return "int"
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, list):
        return "list"
    if isinstance(default, int):
        return "int"
    return "float"


def training_options() -> list[dict]:
    """[{group, options: [{name, kind, default, choices, help}]}] in form order."""
    defaults = cfg.TrainConfig()
    out = []
    for group, names in GROUPS:
        options = []
        for name in names:
            # hidden_sizes left empty takes the chosen architecture's (TrainConfig.__post_init__).
            default = None if name == "hidden_sizes" else getattr(defaults, name)
            kind = "list" if name == "hidden_sizes" else "float" if name == "dropout" else _kind(name, default)
            options.append(
                {
                    "name": name,
                    "label": name.replace("_", " "),
                    "kind": kind,
                    "default": ",".join(map(str, default)) if isinstance(default, list) else default,
                    "choices": CHOICES.get(name, ()),
                    "help": HELP.get(name, ""),
                    "optional": default is None,
                    "placeholder": "architecture default" if name == "hidden_sizes" else "task default",
                }
            )
        out.append({"group": group, "options": options})
    return out


def option_names_missing() -> set[str]:
    """TrainConfig fields the form does not offer (should be empty)."""
    placed = {n for _, names in GROUPS for n in names} | NOT_ON_FORM
    return {f.name for f in fields(cfg.TrainConfig)} - placed


# The quality presets (neural/engine/presets.py, docs/model-quality.md) as the form offers them.
PRESET_CHOICES = [
    ("default", "default (TabM)"),
    ("fast", "fast (MLP)"),
    ("best", f"best ({BEST_MEMBERS} x default, one version)"),
]


def training_form_context() -> dict:
    return {
        "datasets": dataset_list()[:200],
        "patterns": Pattern.values,
        "presets": PRESET_CHOICES,
        "option_groups": training_options(),
        "search_spaces": list(tuning.SPACES),
        "search_methods": list(tuning.METHODS),
    }
