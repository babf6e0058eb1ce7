""".neural-training.yml: the seed's training file, parsed strictly with line numbers.

Shape (every section optional)::

    models:
      coordination:            # one entry per pattern
        epochs: 50
        learning_rate: 0.001
        validation_split: 0.2
        preset: default        # fast | default | best (neural/engine/presets.py)
    data_sources:              # data set names (or name:vN); the first is used when --data is omitted
      - coordination-history
    model_storage:             # folders are taken from the storage root and must stay inside it
      path: ./models/
      versioning: true
      compression: true        # true/false, "zstd" or "none"
      backup: ./backups/       # a folder, or true for <path>/backups, or false
    optimization:
      early_stopping: true
      patience: 10
      batch_size: 32
      gpu_acceleration: false
    advanced:
      cross_validation: false
      hyperparameter_tuning: false
      ensemble: false
      transfer_learning: false

Unknown keys and bad values raise :class:`TrainingFileError` naming the key path and its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from neural.engine.config import TrainConfig
from neural.engine.errors import DataError, UnsafePath
from neural.engine.names import confined
from neural.engine.presets import resolve_preset

PATTERNS = ("coordination", "optimization", "prediction", "security")
MODEL_KEYS = {
    "epochs": "epochs",
    "learning_rate": "learning_rate",
    "validation_split": "validation_split",
    "preset": "preset",
}
OPTIMIZATION_KEYS = {
    "early_stopping": "early_stopping",
    "patience": "patience",
    "batch_size": "batch_size",
    "gpu_acceleration": "gpu",
}
STORAGE_KEYS = ("path", "versioning", "compression", "backup")
ADVANCED_KEYS = ("cross_validation", "hyperparameter_tuning", "ensemble", "transfer_learning")
SECTIONS = ("models", "data_sources", "model_storage", "optimization", "advanced")
COMPRESSION_WORDS = ("zstd", "none", "off", "on", "true", "false")


class TrainingFileError(DataError):
    """A problem in the file; ``field`` is the dotted key path, ``line`` its 1-based line."""

    def __init__(self, source: str, key: str, line: int, problem: str) -> None:
        super().__init__(f"{source}:{line}: {key}: {problem}", field=key)
        self.line = line


@dataclass
class TrainingFile:
    """The validated content of a training file."""

    source: str
    models: dict[str, dict] = field(default_factory=dict)
    data_sources: list[str] = field(default_factory=list)
    model_storage: dict = field(default_factory=dict)
    optimization: dict = field(default_factory=dict)
    advanced: dict = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict, repr=False)

    def train_options(self, pattern: str) -> dict:
        """TrainConfig fields this file sets for ``pattern`` (its model entry, then optimization)."""
        options = {OPTIMIZATION_KEYS[k]: v for k, v in self.optimization.items()}
        options.update({MODEL_KEYS[k]: v for k, v in self.models.get(pattern, {}).items()})
        if self.model_storage:
            options["model_storage"] = dict(self.model_storage)
        return options

    def line_of_option(self, pattern: str, option: str) -> tuple[str, int] | None:
        """(key path, line) in the file that set TrainConfig field ``option``, if any."""
        for key, name in MODEL_KEYS.items():
            path = f"models.{pattern}.{key}"
            if name == option and path in self.lines:
                return path, self.lines[path]
        for key, name in OPTIMIZATION_KEYS.items():
            path = f"optimization.{key}"
            if name == option and path in self.lines:
                return path, self.lines[path]
        return None


def load_training_file(path: Path, *, storage_root: Path | None = None) -> TrainingFile:
    """Read and validate ``path``. ``model_storage`` folders are taken from ``storage_root`` (the
    configured model store) and must stay inside it.

    Raises:
        TrainingFileError: unreadable YAML, an unknown key or a bad value (key and line named).
        DataError: the file does not exist.
    """
    if not path.is_file():
        raise DataError(f"config file {path} does not exist", field="config")
    return parse_training_file(path.read_text(), source=str(path), storage_root=storage_root)


def parse_training_file(
    text: str, *, source: str = ".neural-training.yml", storage_root: Path | None = None
) -> TrainingFile:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise TrainingFileError(source, "(file)", line, f"not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    result = TrainingFile(source=source)
    if root is None:
        return result
    reader = _Reader(source, result.lines)
    top = reader.mapping(root, "", SECTIONS)
    if "models" in top:
        for pattern, node in reader.mapping(top["models"], "models", PATTERNS).items():
            entry = reader.mapping(node, f"models.{pattern}", tuple(MODEL_KEYS))
            result.models[pattern] = {k: reader.scalar(v, f"models.{pattern}.{k}") for k, v in entry.items()}
    if "data_sources" in top:
        result.data_sources = reader.string_list(top["data_sources"], "data_sources")
    if "model_storage" in top:
        entry = reader.mapping(top["model_storage"], "model_storage", STORAGE_KEYS)
        result.model_storage = _storage(
            {k: reader.scalar(v, f"model_storage.{k}") for k, v in entry.items()}, reader, storage_root
        )
    if "optimization" in top:
        entry = reader.mapping(top["optimization"], "optimization", tuple(OPTIMIZATION_KEYS))
        result.optimization = {k: reader.scalar(v, f"optimization.{k}") for k, v in entry.items()}
    if "advanced" in top:
        entry = reader.mapping(top["advanced"], "advanced", ADVANCED_KEYS)
        result.advanced = {k: reader.boolean(v, f"advanced.{k}") for k, v in entry.items()}
    for pattern in result.models or {"(any)": {}}:
        _check_options(result, pattern)
    return result


def _check_options(result: TrainingFile, pattern: str) -> None:
    """Validate the values through TrainConfig and blame the line that set a bad one."""
    options = result.train_options(pattern)
    try:
        TrainConfig.from_dict(resolve_preset(options.pop("preset", None), options)[0])
    except DataError as exc:
        where = result.line_of_option(pattern, exc.field or "")
        if where is None:
            raise
        key, line = where
        problem = exc.message.removeprefix(f"{exc.field} ")
        if exc.field == "gpu":
            problem = "is true but no CUDA GPU is available on this machine"
        raise TrainingFileError(result.source, key, line, problem) from exc


def model_storage_problem(values: dict) -> tuple[str, str] | None:
    """(key, problem) for the first bad ``model_storage`` entry, or None when all are fine."""
    unknown = sorted(set(values) - set(STORAGE_KEYS))
    if unknown:
        return f"model_storage.{unknown[0]}", f"unknown key; expected one of {', '.join(STORAGE_KEYS)}"
    if "path" in values and not isinstance(values["path"], str):
        return "model_storage.path", "must be a folder path"
    if "versioning" in values and not isinstance(values["versioning"], bool):
        return "model_storage.versioning", "must be true or false"
    compression = values.get("compression")
    if compression is not None and not (
        isinstance(compression, bool) or (isinstance(compression, str) and compression.lower() in COMPRESSION_WORDS)
    ):
        return "model_storage.compression", f"must be true, false, zstd or none, got {compression!r}"
    backup = values.get("backup")
    if backup is not None and not isinstance(backup, (bool, str)):
        return "model_storage.backup", "must be a folder path, true or false"
    return None


def validate_model_storage(values: object, *, from_request: bool = False) -> dict:
    """Check an API or CLI ``model_storage`` dict and return it in the stored form (as the file's).

    ``from_request``: paths never come from a request, so a folder in ``path`` or ``backup`` is
    refused (``backup: true`` still asks for the store's own backup folder).

    Raises:
        DataError: naming the bad ``model_storage`` key.
    """
    if not isinstance(values, dict):
        raise DataError("model_storage must be a mapping", field="model_storage")
    problem = model_storage_problem(values) or (request_path_problem(values) if from_request else None)
    if problem:
        raise DataError(f"{problem[0]} {problem[1]}", field=problem[0])
    if values.get("backup") is True:  # the same folder the file's `backup: true` names
        return {**values, "backup": _backup_folder(values)}
    return values


def request_path_problem(values: dict) -> tuple[str, str] | None:
    """(key, problem) when a request names a folder: the server's files are not the caller's to place."""
    for key in ("path", "backup"):
        if isinstance(values.get(key), str):
            return (
                f"model_storage.{key}",
                "is a server folder and is not accepted from a request; set it in the training file or leave it out",
            )
    return None


def _backup_folder(values: dict) -> str:
    return str(Path(values.get("path") or ".") / "backups")


def _normalise_storage(values: dict, storage_root: Path | None, reader: _Reader) -> dict:
    """``backup: true`` becomes ``<path>/backups``, false none; folders are taken from
    ``storage_root`` and must stay inside it (without a root: relative, without ``..``)."""
    if values.get("backup") is True:
        values["backup"] = _backup_folder(values)
    for key in ("path", "backup"):
        value = values.get(key)
        if not isinstance(value, str):
            continue
        if storage_root is None:
            if Path(value).is_absolute() or ".." in Path(value).parts:
                reader.fail(f"model_storage.{key}", "must be a folder inside the model store (relative, no '..')")
            continue
        try:
            values[key] = str(confined(storage_root, value))
        except UnsafePath:
            reader.fail(f"model_storage.{key}", f"must be a folder inside the model store {storage_root}")
    if values.get("backup") is False:
        values["backup"] = None
    return values


def _storage(values: dict, reader: _Reader, storage_root: Path | None) -> dict:
    problem = model_storage_problem(values)
    if problem:
        reader.fail(*problem)
    return _normalise_storage(values, storage_root, reader)


class _Reader:
    def __init__(self, source: str, lines: dict[str, int]) -> None:
        self.source = source
        self.lines = lines

    def fail(self, key: str, problem: str, line: int | None = None):
        raise TrainingFileError(self.source, key, line or self.lines.get(key, 1), problem)

    def mapping(self, node, path: str, allowed: tuple[str, ...]) -> dict:
        if not isinstance(node, yaml.MappingNode):
            self.fail(path or "(file)", "must be a mapping of keys to values", node.start_mark.line + 1)
        out = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            full = f"{path}.{key}" if path else key
            self.lines[full] = key_node.start_mark.line + 1
            if key not in allowed:
                self.fail(full, f"unknown key; expected one of {', '.join(allowed)}")
            if key in out:
                self.fail(full, "appears twice")
            out[key] = value_node
        return out

    def scalar(self, node, path: str):
        if not isinstance(node, yaml.ScalarNode):
            self.fail(path, "must be a single value")
        return yaml.SafeLoader("").construct_object(node)

    def boolean(self, node, path: str) -> bool:
        value = self.scalar(node, path)
        if not isinstance(value, bool):
            self.fail(path, f"must be true or false, got {value!r}")
        return value

    def string_list(self, node, path: str) -> list[str]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(path, "must be a list of data set names")
        values = [self.scalar(item, path) for item in node.value]
        for item, value in zip(node.value, values, strict=True):
            if not isinstance(value, str) or not value.strip():
                self.fail(path, f"each entry must be a data set name, got {value!r}", item.start_mark.line + 1)
        return values
