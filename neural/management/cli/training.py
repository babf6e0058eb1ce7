"""Training commands: `training neural-train|status|logs` and the `neural` sub-commands
train (alias), validate, metrics, compare, retrain, simplify, optimize-batch-size and transfer
(the searches are in cli/search.py).

Each parses, calls services/selectors, and prints: one JSON document with --json, lines for
people otherwise, progress on stderr. Bad input is one line and exit 2; a run-time failure
(training failed, a model below --threshold) exits 1.
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from neural.datasets.models import Pattern
from neural.datasets.selectors import dataset_get
from neural.engine.names import name_from_text
from neural.engine.presets import PRESET_NAMES
from neural.engine.training_file import TrainingFile, load_training_file
from neural.management.base import EXIT_FAILED, SubcommandCommand, fail
from neural.management.cli.defaults import default_dataset, default_model
from neural.registry.storage import storage_root
from neural.training import reports
from neural.training.crossval import cross_validation_run_here, cross_validation_session_args
from neural.training.crossval_selectors import cross_validation_get
from neural.training.ensembles import ensemble_job_settle, ensemble_preset_start
from neural.training.models import TrainingSession
from neural.training.runs import ModelPlan, single_source_pattern, training_run_start
from neural.training.selectors import run_get, run_list, session_name_free, session_resolve
from neural.training.services import (
    training_config_build,
    training_session_create,
    training_session_run,
    worker_alive,
)

# CLI flag -> TrainConfig field, for the flags that map one to one.
OPTION_FLAGS = {
    "learning_rate": ("--learning-rate", float),
    "batch_size": ("--batch-size", int),
    "dropout": ("--dropout", float),
    "weight_decay": ("--l2-reg", float),
    "patience": ("--patience", int),
    "validation_split": ("--validation-split", float),
    "seed": ("--seed", int),
    "lr_schedule": ("--lr-schedule", str),
    "grad_clip": ("--grad-clip", float),
    "workers": ("--workers", int),  # with --parallel: the number of training processes
    "parallel_backend": ("--parallel-backend", str),  # gloo or nccl (default: nccl on GPUs, else gloo)
}
SWITCHES = ("gpu", "mixed_precision", "class_weights", "residual", "parallel")


class TrainingCommands:
    """The `neural` sub-commands of the training area; mixed into the `neural` command."""

    training_subcommands = {
        "train": "Alias of `training neural-train`.",
        "validate": "Score a model on its held-out split or another data set; exit 1 below --threshold.",
        "metrics": "A model version's metrics (--detailed: confusion matrix and per-epoch history).",
        "compare": "Compare model versions side by side.",
        "retrain": "Train a new version on the same data set and config.",
        "simplify": "Distil a model into a smaller network under a parameter budget (a new version).",
        "optimize-batch-size": "Try batch sizes for a model's data set and config; recommend one.",
        "transfer": "Fine-tune a model's network on another data set with its feature columns (a new model "
        "whose parent is the source version).",
        "runs": "`train --config F` runs and their sessions (--run ID: one run).",
    }

    def add_runs_arguments(self, p) -> None:
        p.add_argument("--run", type=int, help="one run's id: its sessions in full")
        p.add_argument("--limit", type=int, default=20, help="runs listed (default 20)")

    def do_runs(self, *, run: int | None, limit: int, **_) -> None:
        if limit <= 0:
            raise fail("--limit must be a whole number > 0")
        runs = [run_get(run_id=run)] if run is not None else list(run_list()[:limit])
        docs = [reports.run_report(r) for r in runs]
        self.emit(docs[0] if run is not None else docs, "\n".join(reports.run_text(d) for d in docs) or "no runs yet")

    def add_train_arguments(self, p) -> None:
        add_train_arguments(p)

    def do_train(self, **options) -> None:
        run_train(self, options)

    def add_validate_arguments(self, p) -> None:
        p.add_argument("--model", required=True, help="name or name:vN")
        p.add_argument("--test-data", help="a data set with the model's target and features (default: its test split)")
        p.add_argument("--threshold", type=float, help="accuracy (or R²) below which the command exits 1")

    def do_validate(self, *, model: str, test_data: str | None, threshold: float | None, **_) -> None:
        if threshold is not None and not 0 <= threshold <= 1:
            raise fail(f"--threshold must be between 0 and 1, got {threshold}")
        report = reports.validate(model_ref=model, dataset_ref=test_data)
        report["threshold"] = threshold
        report["passed"] = None if threshold is None else report["score"] >= threshold
        self.emit(report, reports.validate_text(report))
        if report["passed"] is False:
            raise fail(f"{report['model']}: {report['metric']} {report['score']:.4f} is below {threshold}", EXIT_FAILED)

    def add_metrics_arguments(self, p) -> None:
        p.add_argument("--model", required=True, help="name or name:vN")
        p.add_argument("--detailed", action="store_true", help="confusion matrix and per-epoch history")

    def do_metrics(self, *, model: str, detailed: bool, **_) -> None:
        report = reports.metrics(model_ref=model, detailed=detailed)
        self.emit(report, reports.metrics_text(report))

    def add_compare_arguments(self, p) -> None:
        p.add_argument("--models", required=True, help="comma-separated: A,B:v2,C")

    def do_compare(self, *, models: str, **_) -> None:
        refs = [r.strip() for r in models.split(",") if r.strip()]
        if len(refs) < 2:
            raise fail("--models: give at least two models, comma-separated")
        rows = reports.compare(model_refs=refs)
        self.emit(rows, reports.compare_text(rows))

    def add_retrain_arguments(self, p) -> None:
        p.add_argument("--model", help="name or name:vN (default: the only, or most recently trained, model)")
        p.add_argument("--learning-rate", type=float)
        p.add_argument("--epochs", type=int)
        p.add_argument("--wait", action="store_true")

    def do_retrain(
        self, *, model: str | None, learning_rate: float | None, epochs: int | None, wait: bool, **_
    ) -> None:
        if learning_rate is not None and not learning_rate > 0:
            raise fail(f"--learning-rate must be > 0, got {learning_rate}")
        if epochs is not None and epochs <= 0:
            raise fail("--epochs must be a whole number > 0")
        version = reports.resolve(model or default_model(self))
        overrides = {"learning_rate": learning_rate} if learning_rate is not None else {}
        config = training_config_build(epochs=epochs, options={**version.config, **overrides})
        start_session(
            self,
            dataset=version.dataset,
            pattern=version.model.pattern,
            config=config,
            model_name=version.model.name,
            session_name=session_name_free(model_name=version.model.name, base=name_from_text(f"retrain of {version}")),
            wait=wait,
            parent_version=version,
        )

    def add_simplify_arguments(self, p) -> None:
        p.add_argument("--model", required=True, help="name or name:vN")
        p.add_argument("--target-params", type=int, required=True, help="parameter budget of the new network")

    def do_simplify(self, *, model: str, target_params: int, **_) -> None:
        if target_params <= 0:
            raise fail("--target-params must be a whole number > 0")
        version = reports.resolve(model)
        reports.check_budget(version, target_params)
        session = start_session(
            self,
            dataset=version.dataset,
            pattern=version.model.pattern,
            config=training_config_build(options=version.config),
            model_name=version.model.name,
            session_name=session_name_free(
                model_name=version.model.name, base=name_from_text(f"simplify {version} to {target_params} parameters")
            ),
            wait=True,
            parent_version=version,
            distil_params=target_params,
            quiet=True,
        )
        report = reports.simplify_report(parent=version, session=session)
        self.emit(report, reports.simplify_text(report))

    def add_optimize_batch_size_arguments(self, p) -> None:
        p.add_argument("--model", required=True, help="name or name:vN")
        p.add_argument("--epochs", type=int, default=5, help="epochs per candidate (default 5)")
        p.add_argument("--candidates", default="32,64,128,256,512,1024")

    def do_optimize_batch_size(self, *, model: str, epochs: int, candidates: str, **_) -> None:
        if epochs <= 0:
            raise fail("--epochs must be a whole number > 0")
        try:
            sizes = sorted({int(c) for c in candidates.split(",") if c.strip()})
        except ValueError as exc:
            raise fail(f"--candidates: {candidates!r} is not a comma-separated list of whole numbers") from exc
        if not sizes or min(sizes) < 2:
            raise fail("--candidates: give batch sizes >= 2")
        report = reports.optimize_batch_size(
            model_ref=model, sizes=sizes, epochs=epochs, progress=None if self.as_json else tqdm
        )
        self.emit(report, reports.batch_size_text(report))

    def add_transfer_arguments(self, p) -> None:
        p.add_argument("--source-model", required=True, help="name or name:vN: the network and inputs to start from")
        p.add_argument("--target-domain", required=True, help="data set (name or name:vN) to fine-tune on")
        p.add_argument("--fine-tune-epochs", type=int, default=25, help="default 25 (early stopping applies)")
        p.add_argument("--learning-rate", type=float, help="default: the source version's")
        p.add_argument("--model-name", help="default: <source model>-<data set>")
        p.add_argument("--wait", action="store_true", help="wait for the result (trains here when no worker is alive)")

    def do_transfer(
        self,
        *,
        source_model: str,
        target_domain: str,
        fine_tune_epochs: int,
        learning_rate: float | None,
        model_name: str | None,
        wait: bool,
        **_,
    ) -> None:
        if fine_tune_epochs <= 0:
            raise fail("--fine-tune-epochs must be a whole number > 0")
        source = reports.resolve(source_model)
        dataset = dataset_get(ref=target_domain)
        overrides = {"learning_rate": learning_rate} if learning_rate is not None else {}
        model_name = model_name or f"{source.model.name}-{dataset.name}"[:100]
        start_session(
            self,
            dataset=dataset,
            pattern=source.model.pattern,
            config=training_config_build(epochs=fine_tune_epochs, options={**source.config, **overrides}),
            model_name=model_name,
            session_name=session_name_free(
                model_name=model_name, base=name_from_text(f"transfer of {source} to {dataset}")
            ),
            wait=wait,
            parent_version=source,
            fine_tune=True,
        )


def add_train_arguments(p) -> None:
    p.add_argument(
        "--pattern", help=", ".join(Pattern.values) + " (default: every model in --config, else the data set's pattern)"
    )
    p.add_argument(
        "--data",
        help="data set name, or name:vN (default: the config file's data source for the pattern, "
        "else the only or most recent data set)",
    )
    p.add_argument("--epochs", type=int)
    p.add_argument("--config", type=Path, help=".neural-training.yml; flags given here override it")
    p.add_argument("--model-name")
    p.add_argument("--session-name", default="")
    p.add_argument("--wait", action="store_true", help="wait for the result (trains here when no worker is alive)")
    p.add_argument(
        "--from-cv", type=int, help="a finished cross-validation's id: train with its options on its data set"
    )
    for dest, (flag, kind) in OPTION_FLAGS.items():
        p.add_argument(flag, dest=dest, type=kind)
    p.add_argument("--hidden-sizes", help="width of each hidden layer, e.g. 256,128")
    p.add_argument(
        "--preset", help=f"quality preset under the other options: {', '.join(PRESET_NAMES)} (docs/model-quality.md)"
    )
    for switch in SWITCHES:
        p.add_argument(f"--{switch.replace('_', '-')}", dest=switch, action="store_true", default=None)


def train_options(options: dict, file: TrainingFile | None = None) -> dict:
    """The file's options for the pattern, then every flag given on the command line."""
    merged = file.train_options(options["pattern"]) if file else {}
    merged.update({k: options[k] for k in [*OPTION_FLAGS, *SWITCHES, "preset"] if options.get(k) is not None})
    if options.get("hidden_sizes"):
        try:
            merged["hidden_sizes"] = [int(h) for h in options["hidden_sizes"].split(",")]
        except ValueError as exc:
            raise fail(f"--hidden-sizes: {options['hidden_sizes']!r} is not like 256,128") from exc
    return merged


def run_train(cmd: SubcommandCommand, options: dict) -> None:
    """Train one model; with ``--config``, every model the file names (or the one --pattern
    names) as one run whose sessions are grouped (runs.training_run_start)."""
    if options.get("from_cv") is not None:
        return train_from_cv(cmd, options)
    if options["pattern"] is not None and options["pattern"] not in Pattern.values:
        raise fail(f"--pattern: unknown pattern {options['pattern']!r}; expected one of {', '.join(Pattern.values)}")
    if options["epochs"] is not None and options["epochs"] <= 0:
        raise fail("--epochs must be a whole number > 0")
    if options.get("config"):
        run_file(cmd, options, load_training_file(options["config"], storage_root=storage_root()))
        return
    dataset = dataset_get(ref=options["data"] or default_dataset(cmd, flag="--data", pattern=options["pattern"]))
    pattern = options["pattern"]
    if pattern is None:
        pattern = dataset.pattern
        cmd.progress(f"--pattern not given: using {pattern}, the pattern of data set {dataset}")
    chosen = train_options({**options, "pattern": pattern})
    if chosen.get("preset") == "best":
        return start_best(cmd, dataset=dataset, options=chosen, epochs=options["epochs"], **_names(options))
    start_session(
        cmd,
        dataset=dataset,
        pattern=pattern,
        config=training_config_build(epochs=options["epochs"], options=train_options({**options, "pattern": pattern})),
        model_name=options["model_name"],
        session_name=options["session_name"],
        wait=options["wait"],
    )


def run_file(cmd: SubcommandCommand, options: dict, file: TrainingFile) -> None:
    """``--config F``: one run, one session per model; --wait trains them one after another."""
    patterns = [options["pattern"]] if options["pattern"] else list(file.models)
    if not patterns and not file.advanced.transfer_learning.enabled:
        pattern = None if options["data"] else single_source_pattern(file)
        if pattern is None:
            options = {**options, "data": options["data"] or default_dataset(cmd, flag="--data")}
            pattern = dataset_get(ref=options["data"]).pattern
        patterns = [pattern]
        cmd.progress(f"the config names no model: training a {pattern} model")
    if len(patterns) == 1 and patterns[0] and not options["data"] and not file.data_sources:
        options = {**options, "data": default_dataset(cmd, flag="--data", pattern=patterns[0])}
    if len(patterns) > 1 and (options["model_name"] or options["session_name"] or options["data"]):
        raise fail("--pattern: the config names several models; give --pattern with --model-name/--session-name/--data")
    models = [
        ModelPlan(
            pattern=p,
            options=train_options({**options, "pattern": p}, file),
            data=options["data"] or "",
            model_name=options["model_name"] or "",
            session_name=options["session_name"] or "",
        )
        for p in patterns
    ]
    in_process = options["wait"] and not worker_alive()
    run = training_run_start(user=None, file=file, models=models, epochs=options["epochs"], enqueue=not in_process)
    sessions = list(run.sessions.order_by("pk"))
    for session in sessions:
        cmd.progress(f"run {run.pk}: session {session.pk} ({session.model_name} on {session.dataset})")
    cv_ids = run.config.get("cross_validations", [])  # advanced.cross_validation: one per session
    for cv_id in cv_ids:
        cmd.progress(f"run {run.pk}: cross-validation {cv_id} ({'here' if in_process else 'queued for the workers'})")
    if options["wait"]:
        sessions = [finish_session(cmd, s, in_process=in_process, fail_now=False) for s in sessions]
        if in_process:
            for cv_id in cv_ids:
                cross_validation_run_here(cv_id=cv_id)
            for job_id in run.config.get("ensembles", []):  # advanced.ensemble: its members trained above
                job = ensemble_job_settle(job_id=job_id)
                cmd.progress(f"run {run.pk}: ensemble job {job_id} {job.status} {job.error}".rstrip())
    outcomes = [reports.session_outcome(s) for s in sessions]
    if len(outcomes) == 1:
        cmd.emit({**outcomes[0], "run_id": run.pk}, f"run {run.pk}: " + reports.session_outcome_text(outcomes[0]))
    else:
        cmd.emit(
            {"run_id": run.pk, "sessions": outcomes},
            "\n".join([f"run {run.pk}:"] + [reports.session_outcome_text(o) for o in outcomes]),
        )
    failed = [s for s in sessions if options["wait"] and s.status != TrainingSession.Status.SUCCEEDED]
    if failed:
        raise fail(
            f"run {run.pk}: {len(failed)} of {len(sessions)} sessions did not succeed "
            f"(session {failed[0].pk} {failed[0].status}: {failed[0].error or 'no model was registered'})",
            EXIT_FAILED,
        )


def train_from_cv(cmd: SubcommandCommand, options: dict) -> None:
    """``--from-cv ID``: the cross-validation's options and data set, unchanged (so the session
    truly records settings chosen by it); only the model and session names and --wait may be given."""
    kept = {"from_cv", "model_name", "session_name", "wait", "json", "subcommand"}
    given = [k for k, v in options.items() if k not in kept and v not in (None, False, "") and k in _TRAIN_DESTS]
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise fail(f"{flag}: --from-cv trains with the cross-validation's own options and data set; drop {flag}")
    args = cross_validation_session_args(cv=cross_validation_get(cv_id=options["from_cv"]))
    if options["model_name"]:
        args["model_name"] = options["model_name"]
    start_session(cmd, wait=options["wait"], session_name=options["session_name"], **args)


_TRAIN_DESTS = {"pattern", "data", "epochs", "config", "hidden_sizes", *OPTION_FLAGS, *SWITCHES}


def _names(options: dict) -> dict:
    if options["session_name"]:
        raise fail("--session-name: preset best trains several member sessions; name the model with --model-name")
    return {"model_name": options["model_name"], "wait": options["wait"]}


def start_best(cmd: SubcommandCommand, *, dataset, options: dict, epochs, model_name, wait: bool) -> None:
    """``--preset best``: the members of a bagged ensemble (ensembles.ensemble_preset_start); with
    ``wait``, trained here (no worker alive) or followed, then combined into one version."""
    in_process = wait and not worker_alive()
    job = ensemble_preset_start(
        user=None, dataset=dataset, options=options, epochs=epochs, model_name=model_name, enqueue=not in_process
    )
    sessions = list(job.sessions.order_by("pk"))
    cmd.progress(f"preset best: ensemble job {job.pk}, {len(sessions)} member sessions of {job.model_name}-members")
    if wait:
        for session in sessions:
            finish_session(cmd, session, in_process=in_process, fail_now=False)
        job = ensemble_job_settle(job_id=job.pk)  # idempotent: a worker may have combined them already
    version = job.model_version
    doc = {
        "ensemble_job_id": job.pk,
        "model": job.model_name,
        "status": job.status,
        "version": version.label if version else None,
        "test_metrics": version.test_metrics if version else {},
        "sessions": [s.pk for s in sessions],
        "error": job.error,
    }
    text = f"ensemble job {job.pk} ({job.model_name}): {job.status}"
    if version:
        text += f", version {version.label}, " + ", ".join(
            f"{k} {v:.4f}" for k, v in version.test_metrics.items() if isinstance(v, float)
        )
    cmd.emit(doc, text)
    if wait and job.status != "succeeded":
        raise fail(f"preset best: ensemble job {job.pk} {job.status}: {job.error}", EXIT_FAILED)


def start_session(cmd: SubcommandCommand, *, wait: bool, quiet: bool = False, **create) -> TrainingSession:
    """Create the session; without ``wait`` print its id, with it train here (no worker alive)
    or follow the worker, print the outcome and exit 1 when it did not succeed."""
    in_process = wait and not worker_alive()
    session = training_session_create(user=None, enqueue=not in_process, **create)
    if not wait:
        if not quiet:
            cmd.emit(
                {"session_id": session.pk, "status": session.status, "model": session.model_name},
                f"session {session.pk} queued for model {session.model_name}",
            )
        return session
    session = finish_session(cmd, session, in_process=in_process)
    if not quiet:
        outcome = reports.session_outcome(session)
        cmd.emit(outcome, reports.session_outcome_text(outcome))
    return session


def finish_session(
    cmd: SubcommandCommand, session: TrainingSession, *, in_process: bool, fail_now: bool = True
) -> TrainingSession:
    """Train the session here (no worker alive) or follow the worker until it ends; with
    ``fail_now``, exit 1 when it did not succeed."""
    if in_process:
        cmd.progress(f"no Celery worker is alive: training session {session.pk} in this process")
        session = training_session_run(session_id=session.pk, ran_in="cli")
    else:
        cmd.progress(f"session {session.pk} queued; a worker is training it")
        session = reports.follow(session, show=not cmd.as_json)
    if fail_now and session.status != TrainingSession.Status.SUCCEEDED:
        raise fail(f"training {session.status}: {session.error or 'no model was registered'}", EXIT_FAILED)
    return session


class SessionCommands:
    """`training status` and `training logs`."""

    session_subcommands = {
        "status": "Status, progress and latest metrics of a training session.",
        "logs": "Log lines of a training session (--follow streams them until it ends).",
    }

    def add_status_arguments(self, p) -> None:
        p.add_argument("--session", required=True, help="the session's id or name")

    def do_status(self, *, session: str, **_) -> None:
        report = reports.session_status(session_id=session)
        self.emit(report, reports.session_status_text(report))

    def add_logs_arguments(self, p) -> None:
        p.add_argument("--session", required=True, help="the session's id or name")
        p.add_argument("--follow", action="store_true", help="keep printing new lines until the session ends")

    def do_logs(self, *, session: str, follow: bool, **_) -> None:
        found = session_resolve(ref=session)
        if not follow:
            lines = reports.session_logs(session_id=found.pk)
            self.emit({"session_id": found.pk, "lines": lines}, "\n".join(reports.log_text(x) for x in lines))
            return
        for line in reports.follow_logs(session_id=found.pk):
            self.emit(line, reports.log_text(line))
            self.stdout.flush()
