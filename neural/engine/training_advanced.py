"""The ``advanced`` section of ``.neural-training.yml``, as the seed writes it.

Each block is either a mapping (the seed's form) or the short ``false`` / ``true``::

    advanced:
      cross_validation: {enabled: true, folds: 5, stratified: true}
      hyperparameter_tuning: {enabled: true, method: grid_search, trials: 50}   # or random_search, bayesian
      ensemble: {enabled: true, methods: [voting, stacking], base_models: 3}
      transfer_learning: {enabled: true, source_domain: general_operations, target_domain: security_operations}

A block written as a mapping without ``enabled`` is on. Every value is checked here (type and
range, the key and its line named); what an enabled block does is decided by the training
services (``neural.training.services.training_file_advanced``), which refuse a block they cannot
honour: nothing is accepted and then ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neural.engine.names import is_valid_name

ADVANCED_KEYS = ("cross_validation", "hyperparameter_tuning", "ensemble", "transfer_learning")
# The seed's spellings and the `neural hyper-optimize --method` ones, to engine.tuning.METHODS.
TUNING_METHODS = {
    "grid_search": "grid",
    "random_search": "random",
    "bayesian": "bayesian",
    "grid": "grid",
    "random": "random",
}
ENSEMBLE_METHODS = ("voting", "stacking", "weighted")
FOLDS_RANGE = (2, 100)
TRIALS_RANGE = (1, 500)
BASE_MODELS_RANGE = (2, 50)


@dataclass(frozen=True)
class CrossValidation:
    enabled: bool = False
    folds: int = 5
    stratified: bool = False


@dataclass(frozen=True)
class HyperparameterTuning:
    enabled: bool = False
    method: str = "bayesian"  # grid | random | bayesian (engine.tuning.METHODS)
    trials: int = 20


@dataclass(frozen=True)
class Ensemble:
    enabled: bool = False
    methods: tuple[str, ...] = ("voting",)
    base_models: int = 3


@dataclass(frozen=True)
class TransferLearning:
    enabled: bool = False
    source_domain: str = ""  # a registered model (name or name:vN) whose version starts the network
    target_domain: str = ""  # a data_sources name or a data set (name or name:vN) to fine-tune on


@dataclass(frozen=True)
class Advanced:
    cross_validation: CrossValidation = field(default_factory=CrossValidation)
    hyperparameter_tuning: HyperparameterTuning = field(default_factory=HyperparameterTuning)
    ensemble: Ensemble = field(default_factory=Ensemble)
    transfer_learning: TransferLearning = field(default_factory=TransferLearning)

    def enabled(self) -> list[str]:
        """The names of the blocks that are on, in the file's order of keys."""
        return [key for key in ADVANCED_KEYS if getattr(self, key).enabled]

    def to_dict(self) -> dict:
        """What a run records: every block, on or off, with its values."""
        out = {}
        for key in ADVANCED_KEYS:
            block = getattr(self, key)
            out[key] = {name: list(v) if isinstance(v, tuple) else v for name, v in block.__dict__.items()}
        return out


BLOCK_KEYS = {
    "cross_validation": ("enabled", "folds", "stratified"),
    "hyperparameter_tuning": ("enabled", "method", "trials"),
    "ensemble": ("enabled", "methods", "base_models"),
    "transfer_learning": ("enabled", "source_domain", "target_domain"),
}


def parse_advanced(reader, node) -> Advanced:
    """The ``advanced`` mapping node, each block checked. ``reader`` is training_file's reader
    (``mapping``, ``scalar``, ``fail``, ``is_mapping``, ``is_sequence``)."""
    blocks = {}
    for key, value in reader.mapping(node, "advanced", ADVANCED_KEYS).items():
        path = f"advanced.{key}"
        entry = reader.mapping(value, path, BLOCK_KEYS[key]) if reader.is_mapping(value) else {"enabled": value}
        blocks[key] = _BLOCKS[key](reader, path, entry)
    return Advanced(**blocks)


def _enabled(reader, path: str, entry: dict) -> bool:
    if "enabled" not in entry:
        return True
    key = f"{path}.enabled" if f"{path}.enabled" in reader.lines else path
    value = reader.scalar(entry["enabled"], key)
    if not isinstance(value, bool):
        reader.fail(key, f"must be true or false, got {value!r}")
    return value


def _whole(reader, node, path: str, bounds: tuple[int, int]) -> int:
    value = reader.scalar(node, path)
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        reader.fail(path, f"must be a whole number from {low} to {high}, got {value!r}")
    return value


def _cross_validation(reader, path: str, entry: dict) -> CrossValidation:
    enabled = _enabled(reader, path, entry)
    folds = _whole(reader, entry["folds"], f"{path}.folds", FOLDS_RANGE) if "folds" in entry else 5
    stratified = False
    if "stratified" in entry:
        stratified = reader.scalar(entry["stratified"], f"{path}.stratified")
        if not isinstance(stratified, bool):
            reader.fail(f"{path}.stratified", f"must be true or false, got {stratified!r}")
    return CrossValidation(enabled=enabled, folds=folds, stratified=stratified)


def _tuning(reader, path: str, entry: dict) -> HyperparameterTuning:
    enabled = _enabled(reader, path, entry)
    method = "bayesian"
    if "method" in entry:
        word = reader.scalar(entry["method"], f"{path}.method")
        if not isinstance(word, str) or word.lower() not in TUNING_METHODS:
            reader.fail(f"{path}.method", f"must be grid_search, random_search or bayesian, got {word!r}")
        method = TUNING_METHODS[word.lower()]
    trials = _whole(reader, entry["trials"], f"{path}.trials", TRIALS_RANGE) if "trials" in entry else 20
    return HyperparameterTuning(enabled=enabled, method=method, trials=trials)


def _ensemble(reader, path: str, entry: dict) -> Ensemble:
    enabled = _enabled(reader, path, entry)
    methods: tuple[str, ...] = ("voting",)
    if "methods" in entry:
        key = f"{path}.methods"
        node = entry["methods"]
        items = node.value if reader.is_sequence(node) else [node]
        words = [reader.scalar(item, key) for item in items]
        if not words:
            reader.fail(key, f"name at least one of {', '.join(ENSEMBLE_METHODS)}")
        for word in words:
            if word not in ENSEMBLE_METHODS:
                reader.fail(key, f"each method must be one of {', '.join(ENSEMBLE_METHODS)}, got {word!r}")
        if len(set(words)) != len(words):
            reader.fail(key, "names a method twice")
        methods = tuple(words)
    base = (
        _whole(reader, entry["base_models"], f"{path}.base_models", BASE_MODELS_RANGE) if "base_models" in entry else 3
    )
    return Ensemble(enabled=enabled, methods=methods, base_models=base)


def _transfer(reader, path: str, entry: dict) -> TransferLearning:
    enabled = _enabled(reader, path, entry)
    names = {}
    for key in ("source_domain", "target_domain"):
        full = f"{path}.{key}"
        if key not in entry:
            if enabled:
                reader.fail(full if full in reader.lines else path, f"{key} is required when transfer_learning is on")
            names[key] = ""
            continue
        value = reader.scalar(entry[key], full)
        if not isinstance(value, str) or not is_valid_name(value.partition(":v")[0]):
            reader.fail(full, f"must be a model or data set name (name or name:vN), got {value!r}")
        names[key] = value
    return TransferLearning(enabled=enabled, **names)


_BLOCKS = {
    "cross_validation": _cross_validation,
    "hyperparameter_tuning": _tuning,
    "ensemble": _ensemble,
    "transfer_learning": _transfer,
}
