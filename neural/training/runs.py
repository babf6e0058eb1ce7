"""`neural train --config F` without --pattern: every model the file names, one session each,
grouped under one TrainingRun.

Which data each model trains on (documented in docs/training.md):

1. ``--data`` when given (one model only);
2. the data source named like the pattern (the seed's ``coordination:``, ``security:``);
3. a data source whose data set is of that pattern: a stored data set's own pattern, or for a
   folder the seed guide's words ``operations`` (task execution history: prediction),
   ``performance`` (performance metrics: optimization), else the pattern of a stored data set of
   that name;
4. otherwise the model is an error naming its ``models.<pattern>`` key and line.

Folder sources are imported first (neural.datasets.folders: one version per folder, nothing new
when no file changed); a folder that does not exist falls back to a stored data set of the
source's name. Everything happens in one transaction: on any error no run, no session and no
data set remain (the Parquet files written by a failed call are removed too).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction

from neural.datasets import storage
from neural.datasets.folders import dataset_import_folder
from neural.datasets.models import Dataset, Pattern
from neural.datasets.selectors import dataset_get
from neural.engine.training_file import DataSource, TrainingFile, TrainingFileError, parse_training_file
from neural.errors import DataError, NotFound
from neural.registry.storage import storage_root
from neural.training.crossval import cross_validation_start
from neural.training.ensembles import ensemble_preset_start, ensemble_train_start
from neural.training.models import TrainingRun, TrainingSession
from neural.training.services import (
    AdvancedPlan,
    training_config_build,
    training_file_advanced,
    training_session_create,
)

# The seed guide's data source names ("Training Data Sources") and the pattern each feeds.
SEED_SOURCE_PATTERNS = {"operations": Pattern.PREDICTION, "performance": Pattern.OPTIMIZATION}


@dataclass(frozen=True)
class ModelPlan:
    pattern: str
    options: dict  # TrainConfig fields from the file and the command line
    data: str = ""  # --data, when given
    model_name: str = ""  # --model-name (default: the pattern)
    session_name: str = ""


def training_run_start(
    *,
    user,
    file: TrainingFile,
    models: list[ModelPlan],
    epochs: int | None = None,
    enqueue: bool = True,
) -> TrainingRun:
    """Create the run and one queued session per model (enqueued once committed).

    ``models`` empty: the file names none, so the run trains the transfer's target (with its
    source model's pattern).

    Raises:
        TrainingFileError / DataError: naming the key (and line) at fault; nothing is stored.
    """
    plan = training_file_advanced(file=file)
    written: list[Dataset] = []
    try:
        with transaction.atomic():
            datasets = _resolve_sources(file, written)
            models = models or _implied_models(file, plan)
            run = TrainingRun.objects.create(
                owner=user if getattr(user, "is_authenticated", False) else None,
                source=file.source[:500],
                config={
                    "advanced": file.advanced.to_dict(),
                    "data_sources": {s.name: datasets[s.name].label for s in file.data_sources},
                    "imported": [d.label for d in written],
                },
            )
            sessions = [_session_for(run, user, file, plan, datasets, m, epochs, enqueue) for m in models]
            if plan.transfer_from is not None and not any(s.fine_tune for s in sessions):
                raise file.error(
                    "advanced.transfer_learning.target_domain",
                    f"no model of this file trains on {plan.transfer_to!r}; name the data source one of them uses",
                )
    except BaseException:
        for dataset in written:  # the rows went with the transaction; their files go now
            storage.stored_path(dataset.file).unlink(missing_ok=True)
        raise
    return run


def _session_for(run, user, file, plan: AdvancedPlan, datasets, model: ModelPlan, epochs, enqueue) -> TrainingSession:
    fine_tune = plan.transfer_from is not None and _is_target(file, plan, datasets, model)
    dataset = _dataset_for(file, datasets, model, plan if fine_tune else None)
    options = dict(model.options)
    best = dict(options) if options.get("preset") == "best" else None
    if best:
        options["preset"] = "default"
    if fine_tune:  # the network is the source's; the file's options still apply on top
        options = {**plan.transfer_from.config, **options}
    model_name = model.model_name or model.pattern
    if fine_tune and not model.model_name:
        model_name = f"{plan.transfer_from.model.name}-{dataset.name}"[:100]
    if file.advanced.cross_validation.enabled:
        cv = _cross_validation_for(run, user, file, dataset, model, model_name, options, epochs, enqueue)
        options = {**options, "cross_validation_id": cv.pk}
    config = training_config_build(epochs=epochs, options=options)
    try:
        session = training_session_create(
            user=user,
            dataset=dataset,
            pattern=plan.transfer_from.model.pattern if fine_tune else model.pattern,
            config=config,
            model_name=model_name,
            session_name=model.session_name,
            enqueue=enqueue,
            parent_version=plan.transfer_from if fine_tune else None,
            fine_tune=fine_tune,
            run=run,
            search=plan.search,
        )
    except DataError as exc:  # e.g. too few rows, or columns the source model cannot take
        if isinstance(exc, TrainingFileError) or exc.field in ("model_name", "session_name"):
            raise  # already names the file's key, or a flag
        key = "advanced.transfer_learning.target_domain" if fine_tune else f"models.{model.pattern}"
        raise file.error(key, exc.message) from exc
    if file.advanced.ensemble.enabled:
        _ensemble_for(run, user, file, dataset, model_name, options, epochs, enqueue)
    if best:  # ``preset: best``: beside the default network, the bagged ensemble the preset names
        try:
            job = ensemble_preset_start(
                user=user, dataset=dataset, options=best, epochs=epochs, model_name=model_name, enqueue=enqueue, run=run
            )
        except DataError as exc:
            raise file.error(f"models.{model.pattern}.preset", exc.message) from exc
        _record(run, "ensembles", job.pk)
    return session


@contextmanager
def _naming_key(file: TrainingFile, block: str, keys: tuple[str, ...]):
    """A service's DataError as the file's error at ``block`` (or ``block.<field>`` when the
    field is one of the block's ``keys``), with its line."""
    try:
        yield
    except DataError as exc:
        if isinstance(exc, TrainingFileError):
            raise
        key = f"{block}.{exc.field}" if exc.field in keys else block
        raise file.error(key, exc.message) from exc


def _record(run: TrainingRun, key: str, pk: int) -> None:
    """List a cross-validation or ensemble job the run started in its config (``neural runs``,
    and `--wait` without a worker finishes them)."""
    run.config = {**run.config, key: [*run.config.get(key, []), pk]}
    run.save(update_fields=["config"])


def _cross_validation_for(run, user, file, dataset, model, model_name, options, epochs, enqueue):
    """``advanced.cross_validation``: the session's own options, k-fold on its own data set,
    queued beside it (the run's config lists it; the session records its id)."""
    block = file.advanced.cross_validation
    fold_options = {k: v for k, v in options.items() if k not in ("bagging_seed", "cross_validation_id")}
    if epochs is not None:
        fold_options["epochs"] = epochs
    with _naming_key(file, "advanced.cross_validation", ("folds", "stratified")):
        cv = cross_validation_start(
            user=user,
            dataset=dataset,
            pattern=model.pattern,
            model_name=model_name,
            folds=block.folds,
            stratified=block.stratified,
            options=fold_options,
            enqueue=enqueue,
        )
    _record(run, "cross_validations", cv.pk)
    return cv


def _ensemble_for(run, user, file, dataset, model_name, options, epochs, enqueue) -> None:
    """``advanced.ensemble``: beside the session, ``base_models`` members trained from scratch with
    the same options, each with its own seed (bootstrap samples with ``bagging: bootstrap``;
    sessions of the run, model ``<name>-members``), combined by each of ``methods`` into versions of ``<name>``."""
    block = file.advanced.ensemble
    per_session = ("bagging_seed", "cross_validation_id")  # a source version's config may carry them
    member_options = {k: v for k, v in options.items() if k not in per_session} | {"model_name": model_name}
    if epochs is not None:
        member_options["epochs"] = epochs
    with _naming_key(file, "advanced.ensemble", ("methods", "base_models")):
        job = ensemble_train_start(
            user=user,
            dataset=dataset,
            options=member_options,
            base_models=block.base_models,
            methods=list(block.methods),
            run=run,
            enqueue=enqueue,
        )
    _record(run, "ensembles", job.pk)


def _resolve_sources(file: TrainingFile, written: list[Dataset]) -> dict[str, Dataset]:
    """Each data source's data set: folders imported (or their stored data set), names looked up."""
    out = {}
    for source in file.data_sources:
        try:
            if source.folder is None:
                out[source.name] = dataset_get(ref=source.ref)
            elif source.folder.is_dir():
                dataset, new = dataset_import_folder(
                    name=source.name, folder=source.folder, pattern=_folder_pattern(file, source)
                )
                if new:
                    written.append(dataset)
                out[source.name] = dataset
            else:
                out[source.name] = _stored_instead(source)
        except (DataError, NotFound) as exc:
            raise file.error(source.key, exc.message) from exc
    return out


def _stored_instead(source: DataSource) -> Dataset:
    found = Dataset.objects.filter(name=source.name).order_by("-version").first()
    if found is None:
        raise NotFound(
            f"folder {source.written} does not exist and no data set is named {source.name!r}", field=source.key
        )
    return found


def _folder_pattern(file: TrainingFile, source: DataSource) -> str:
    """The pattern a folder's data set is stored with: the source's name when it is a pattern,
    the seed's words, else the stored data set of that name's, else prediction (the default)."""
    if source.name in Pattern.values:
        return source.name
    if source.name in SEED_SOURCE_PATTERNS:
        return SEED_SOURCE_PATTERNS[source.name]
    stored = Dataset.objects.filter(name=source.name).order_by("-version").first()
    return stored.pattern if stored else Pattern.PREDICTION


def _dataset_for(file: TrainingFile, datasets: dict[str, Dataset], model: ModelPlan, plan: AdvancedPlan | None):
    if plan is not None:
        return _target_dataset(file, plan, datasets)
    if model.data:
        return dataset_get(ref=model.data)
    if model.pattern in datasets:
        return datasets[model.pattern]
    for dataset in datasets.values():
        if dataset.pattern == model.pattern:
            return dataset
    if file.data_sources and all(s.key == "data_sources" for s in file.data_sources):
        return datasets[file.data_sources[0].name]  # the list form: its first data set
    names = ", ".join(datasets) or "none"
    raise file.error(
        f"models.{model.pattern}",
        f"no data source for {model.pattern}: name one {model.pattern!r} or give a data set of pattern "
        f"{model.pattern} (data sources: {names})",
    )


def _target_dataset(file: TrainingFile, plan: AdvancedPlan, datasets: dict[str, Dataset]) -> Dataset:
    if plan.transfer_to in datasets:
        return datasets[plan.transfer_to]
    try:
        return dataset_get(ref=plan.transfer_to)
    except NotFound as exc:
        raise file.error(
            "advanced.transfer_learning.target_domain",
            f"{exc.message}; target_domain names a data source of this file or a stored data set",
        ) from exc


def _is_target(file: TrainingFile, plan: AdvancedPlan, datasets: dict[str, Dataset], model: ModelPlan) -> bool:
    """Whether this model trains on the transfer's target (it is then fine-tuned from the source)."""
    target = _target_dataset(file, plan, datasets)
    if not file.models:
        return True
    try:
        return _dataset_for(file, datasets, model, None).pk == target.pk
    except DataError:
        return False


def training_file_from_request(text: str) -> TrainingFile:
    """A training file sent in a request (POST runs): parsed like one on disk, but paths never
    come from a request, so data source folders and model_storage folders are refused (import
    the folder with `data import` and name the data set instead).

    Raises:
        TrainingFileError: naming the key and line.
    """
    file = parse_training_file(text, source="config", storage_root=storage_root())
    for source in file.data_sources:
        if source.folder is not None:
            raise file.error(source.key, "is a folder; a request names stored data sets only (see `data import`)")
    for key in ("path", "backup"):
        if isinstance(file.model_storage.get(key), str):
            raise file.error(f"model_storage.{key}", "is a server folder and is not accepted from a request")
    return file


def file_models(file: TrainingFile) -> list[ModelPlan]:
    """One model per ``models`` entry, with the file's options for its pattern."""
    return [ModelPlan(pattern=p, options=file.train_options(p)) for p in file.models]


def single_source_pattern(file: TrainingFile) -> str | None:
    """The pattern of a file's only data source (for a file that names no model), else None."""
    if len(file.data_sources) != 1:
        return None
    source = file.data_sources[0]
    if source.folder is not None:
        return _folder_pattern(file, source)
    try:
        return dataset_get(ref=source.ref).pattern
    except NotFound as exc:
        raise file.error(source.key, exc.message) from exc


def _implied_models(file: TrainingFile, plan: AdvancedPlan) -> list[ModelPlan]:
    """A file that names no model trains the transfer's target (with its source's pattern)."""
    if plan.transfer_from is None:
        raise DataError("the training file names no model; add a models section or give --pattern", field="models")
    pattern = plan.transfer_from.model.pattern
    return [ModelPlan(pattern=pattern, options=file.train_options(pattern))]
