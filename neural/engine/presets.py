"""Quality presets a user picks by name: ``fast``, ``default``, ``best``.

A preset is a set of training options under the user's own (an option the user gives wins).
``fast`` is the MLP. ``default`` was chosen by the protocol of docs/model-quality.md: among the
candidates fixed in benchmarks/quality_protocol.py, the one with the highest mean accuracy / R²
ratio to HistGradientBoosting on the development half of the packaged data sets. ``best`` is
``default`` trained as a bagged ensemble of ``BEST_MEMBERS`` members served as one version: it
resolves to the options plus an ensemble request that the training service hands to the
ensemble builder.
"""

from __future__ import annotations

from neural.engine.errors import DataError

PRESET_NAMES = ("fast", "default", "best")
BEST_MEMBERS = 5
# Round 2's pick (tabm_lite4; round 1's, TabM with 8 members of width 128, missed the time bar).
_DEFAULT = {
    "architecture": "tabm",
    "num_embeddings": "piecewise",
    "hidden_sizes": [64, 64],
    "num_embedding_dim": 8,
    "tabm_k": 4,
    "dropout": 0.0,
}
PRESETS: dict[str, dict] = {"fast": {"architecture": "mlp"}, "default": _DEFAULT, "best": _DEFAULT}
# Training without a preset is `default`: TrainConfig's own defaults are its options (a test).


def preset_options(name: str) -> dict:
    """The training options of preset ``name`` (a copy)."""
    if name not in PRESETS:
        raise DataError(f"preset must be one of {', '.join(PRESET_NAMES)}, got {name!r}", field="preset")
    return {k: list(v) if isinstance(v, list) else v for k, v in PRESETS[name].items()}


def resolve_preset(name: str | None, options: dict) -> tuple[dict, dict | None]:
    """Training options for ``name`` with the user's ``options`` on top, and the ensemble request
    (``{"base_models": 5, "method": "voting"}``) when the preset is ``best``, else None."""
    if name is None:
        return dict(options), None
    merged = {**preset_options(name), **options}
    ensemble = {"base_models": BEST_MEMBERS, "method": "voting"} if name == "best" else None
    return merged, ensemble
