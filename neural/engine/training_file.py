""".neural-training.yml: the seed's training file, parsed strictly with line numbers.

Shape (every section optional; the seed's root key ``neural_training:`` may hold them all)::

    neural_training:             # optional root, as the seed writes it
    models:
      coordination:            # one entry per pattern
        epochs: 50
        learning_rate: 0.001
        validation_split: 0.2
        preset: default        # fast | default | best (neural/engine/presets.py)
    data_sources:              # name -> folder (imported) or data set name; or a list of data set names
      operations: ./data/operations/
      coordination: coordination-history
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
    advanced:                  # see training_advanced.py
      cross_validation: {enabled: true, folds: 5, stratified: true}
      hyperparameter_tuning: {enabled: true, method: grid_search, trials: 50}
      ensemble: {enabled: false}
      transfer_learning: false

A data source value that looks like a path (it contains ``/`` or starts with ``.`` or ``~``) is a
folder, taken from the training file's own folder and refused when it leaves it; any other value
is a data set name (``name`` or ``name:vN``). Unknown keys and bad values raise
:class:`TrainingFileError` naming the key path and its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from neural.engine.config import TrainConfig
from neural.engine.errors import DataError, UnsafePath
from neural.engine.names import confined, is_valid_name
from neural.engine.presets import resolve_preset
from neural.engine.training_advanced import ADVANCED_KEYS, Advanced, parse_advanced

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
__all__ = ["ADVANCED_KEYS", "Advanced", "DataSource", "TrainingFile", "TrainingFileError"]
ROOT_KEY = "neural_training"
SECTIONS = ("models", "data_sources", "model_storage", "optimization", "advanced")
COMPRESSION_WORDS = ("zstd", "none", "off", "on", "true", "false")


class TrainingFileError(DataError):
    """A problem in the file; ``field`` is the dotted key path, ``line`` its 1-based line."""

    def __init__(self, source: str, key: str, line: int, problem: str) -> None:
        super().__init__(f"{source}:{line}: {key}: {problem}", field=key)
        self.line = line


@dataclass(frozen=True)
class DataSource:
    """One ``data_sources`` entry: ``name`` (its key; the data set name for the list form),
    ``ref`` (a data set name or name:vN) or ``folder`` (resolved), and the ``key`` and ``line``
    that errors name."""

    name: str
    key: str
    line: int
    ref: str = ""
    folder: Path | None = None
    written: str = ""  # the value as the file writes it


@dataclass
class TrainingFile:
    """The validated content of a training file."""

    source: str
    models: dict[str, dict] = field(default_factory=dict)
    data_sources: list[DataSource] = field(default_factory=list)
    model_storage: dict = field(default_factory=dict)
    optimization: dict = field(default_factory=dict)
    advanced: Advanced = field(default_factory=Advanced)
    lines: dict[str, int] = field(default_factory=dict, repr=False)
    root: str = ""  # "neural_training." when the file has the seed's root key

    def key(self, path: str) -> str:
        """The key path as the file writes it (with the root key, when there is one)."""
        return f"{self.root}{path}"

    def error(self, path: str, problem: str) -> TrainingFileError:
        """An error about ``path`` (e.g. ``advanced.ensemble``) at the line that wrote it."""
        return TrainingFileError(self.source, self.key(path), self.lines.get(path, 1), problem)

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
    configured model store) and must stay inside it; data source folders are taken from the
    file's own folder and must stay inside that.

    Raises:
        TrainingFileError: unreadable YAML, an unknown key or a bad value (key and line named).
        DataError: the file does not exist.
    """
    if not path.is_file():
        raise DataError(f"config file {path} does not exist", field="config")
    return parse_training_file(
        path.read_text(), source=str(path), storage_root=storage_root, base_dir=path.resolve().parent
    )


def parse_training_file(
    text: str,
    *,
    source: str = ".neural-training.yml",
    storage_root: Path | None = None,
    base_dir: Path | None = None,
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
    if isinstance(root, yaml.MappingNode) and any(str(k.value) == ROOT_KEY for k, _ in root.value):
        root = reader.mapping(root, "", (ROOT_KEY,))[ROOT_KEY]
        result.root = reader.prefix = f"{ROOT_KEY}."
        reader.lines.clear()
        if root is None or (isinstance(root, yaml.ScalarNode) and root.value in ("", "~", "null")):
            return result
        if not isinstance(root, yaml.MappingNode):
            raise TrainingFileError(source, ROOT_KEY, root.start_mark.line + 1, "must be a mapping of the sections")
    top = reader.mapping(root, "", SECTIONS)
    if "models" in top:
        for pattern, node in reader.mapping(top["models"], "models", PATTERNS).items():
            entry = reader.mapping(node, f"models.{pattern}", tuple(MODEL_KEYS))
            result.models[pattern] = {k: reader.scalar(v, f"models.{pattern}.{k}") for k, v in entry.items()}
    if "data_sources" in top:
        result.data_sources = _data_sources(reader, top["data_sources"], base_dir)
    if "model_storage" in top:
        entry = reader.mapping(top["model_storage"], "model_storage", STORAGE_KEYS)
        result.model_storage = _storage(
            {k: reader.scalar(v, f"model_storage.{k}") for k, v in entry.items()}, reader, storage_root
        )
    if "optimization" in top:
        entry = reader.mapping(top["optimization"], "optimization", tuple(OPTIMIZATION_KEYS))
        result.optimization = {k: reader.scalar(v, f"optimization.{k}") for k, v in entry.items()}
    if "advanced" in top:
        result.advanced = parse_advanced(reader, top["advanced"])
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
        raise TrainingFileError(result.source, result.key(key), line, problem) from exc


def looks_like_folder(value: str) -> bool:
    """A data source value naming a folder rather than a data set (names never hold '/')."""
    return "/" in value or "\\" in value or value.startswith((".", "~"))


def _data_sources(reader: _Reader, node, base_dir: Path | None) -> list[DataSource]:
    """The list form (data set names) or the seed's map of name -> folder or data set name."""
    if isinstance(node, yaml.SequenceNode):
        return [
            DataSource(name=ref.partition(":v")[0], key="data_sources", line=line, ref=ref, written=ref)
            for ref, line in reader.string_list(node, "data_sources")
        ]
    out = []
    for name, value_node in reader.mapping(node, "data_sources", None).items():
        key = f"data_sources.{name}"
        if not is_valid_name(name):
            reader.fail(key, "the name of a data source is the data set's name: letters, digits, '.', '_' or '-'")
        value = reader.scalar(value_node, key)
        if not isinstance(value, str) or not value.strip():
            reader.fail(key, f"must be a folder (./data/x/) or a data set name, got {value!r}")
        line = reader.lines[key]
        if not looks_like_folder(value):
            if not is_valid_name(value.partition(":v")[0]):
                reader.fail(key, f"{value!r} is neither a folder nor a data set name")
            out.append(DataSource(name=name, key=key, line=line, ref=value, written=value))
            continue
        out.append(
            DataSource(name=name, key=key, line=line, folder=_folder(reader, key, value, base_dir), written=value)
        )
    return out


def _folder(reader: _Reader, key: str, value: str, base_dir: Path | None) -> Path:
    """A data source folder, inside the training file's folder (without one: relative, no '..')."""
    if base_dir is None:
        if Path(value).is_absolute() or ".." in Path(value).parts or value.startswith("~"):
            reader.fail(key, "must be a folder inside the training file's folder (relative, no '..')")
        return Path(value)
    try:
        return confined(base_dir, value)
    except UnsafePath:
        reader.fail(key, f"must be a folder inside the training file's folder {base_dir}")


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
    """Walks the YAML nodes, recording each key's line; errors name the key as the file writes it."""

    def __init__(self, source: str, lines: dict[str, int]) -> None:
        self.source = source
        self.lines = lines
        self.prefix = ""

    def fail(self, key: str, problem: str, line: int | None = None):
        raise TrainingFileError(self.source, f"{self.prefix}{key}", line or self.lines.get(key, 1), problem)

    @staticmethod
    def is_mapping(node) -> bool:
        return isinstance(node, yaml.MappingNode)

    @staticmethod
    def is_sequence(node) -> bool:
        return isinstance(node, yaml.SequenceNode)

    def mapping(self, node, path: str, allowed: tuple[str, ...] | None) -> dict:
        """The mapping's key -> value node; ``allowed`` None takes any key."""
        if not isinstance(node, yaml.MappingNode):
            line = node.start_mark.line + 1 if node is not None else self.lines.get(path, 1)
            self.fail(path or "(file)", "must be a mapping of keys to values", line)
        out = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            full = f"{path}.{key}" if path else key
            self.lines[full] = key_node.start_mark.line + 1
            if allowed is not None and key not in allowed:
                self.fail(full, f"unknown key; expected one of {', '.join(allowed)}")
            if key in out:
                self.fail(full, "appears twice")
            out[key] = value_node
        return out

    def scalar(self, node, path: str):
        if not isinstance(node, yaml.ScalarNode):
            self.fail(path, "must be a single value")
        try:
            return yaml.SafeLoader("").construct_object(node)
        except yaml.YAMLError as exc:  # e.g. a tag such as !!python/name that safe YAML refuses
            self.fail(path, f"is not a plain value ({getattr(exc, 'problem', None) or exc})", node.start_mark.line + 1)

    def string_list(self, node, path: str) -> list[tuple[str, int]]:
        """(value, line) of each entry of a list of data set names."""
        if not isinstance(node, yaml.SequenceNode):
            self.fail(path, "must be a list of data set names, or a mapping of name to folder or data set")
        out = []
        for item in node.value:
            value, line = self.scalar(item, path), item.start_mark.line + 1
            if not isinstance(value, str) or not is_valid_name(value.partition(":v")[0]):
                self.fail(path, f"each entry must be a data set name, got {value!r}", line)
            out.append((value, line))
        return out
