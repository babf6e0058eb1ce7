"""`neural cross-validate (--model M | --pattern P --data N) [--folds 5] [--stratified]
[--group-column C] [--time-column C]`, with the training options `neural train` takes.

The folds run on the Celery workers, in parallel when there are several, or here one after
another when none is alive; the command waits, prints the folds side by side and the summary,
and exits 1 when a fold failed. ``--train`` then trains a model with the options (its session
records the cross-validation's id)."""

from __future__ import annotations

import time
from pathlib import Path

from tqdm import tqdm

from neural.datasets.models import Pattern
from neural.datasets.selectors import dataset_get
from neural.engine.crossval import MAX_FOLDS
from neural.engine.training_file import load_training_file
from neural.management.base import EXIT_FAILED, SubcommandCommand, fail
from neural.management.cli.defaults import default_dataset
from neural.management.cli.training import OPTION_FLAGS, SWITCHES, start_session, train_options
from neural.registry.storage import storage_root
from neural.training import reports
from neural.training.crossval import (
    cross_validation_folds_recover,
    cross_validation_run_here,
    cross_validation_session_args,
    cross_validation_settle,
    cross_validation_start,
)
from neural.training.crossval_selectors import cross_validation_report
from neural.training.models import CrossValidation
from neural.training.services import worker_alive

FOLLOW_POLL_S = 0.5
RECOVER_EVERY_S = 5.0


class CrossValidationCommands:
    """Mixed into the `neural` command; see SubcommandCommand."""

    crossval_subcommands = {
        "cross-validate": "k-fold cross-validation of a model's (or a pattern's) training options: folds trained "
        "in parallel on the Celery workers, per-fold metrics, mean ± sd and a 95% interval, out-of-fold "
        "predictions kept; --train then trains a model with those options.",
    }

    def add_cross_validate_arguments(self, p) -> None:
        p.add_argument("--model", help="name or name:vN: its options and data set are the base")
        p.add_argument("--pattern", help=", ".join(Pattern.values) + " (instead of --model, with --data)")
        p.add_argument("--data", help="data set name or name:vN (default: the model's, else the most recent)")
        p.add_argument("--folds", type=int, default=5, help=f"2..{MAX_FOLDS} (default 5)")
        p.add_argument("--stratified", action="store_true", help="keep each class's share in every fold")
        p.add_argument("--group-column", help="rows with the same value in this column stay in one fold")
        p.add_argument("--time-column", help="forward-chaining folds: train on earlier rows, score later ones")
        p.add_argument("--epochs", type=int)
        p.add_argument("--config", type=Path, help=".neural-training.yml: the pattern's options; flags override it")
        p.add_argument("--model-name", help="with --pattern: the model --train adds to (default: the pattern)")
        p.add_argument("--train", action="store_true", help="then train a model with these options")
        for dest, (flag, kind) in OPTION_FLAGS.items():
            p.add_argument(flag, dest=dest, type=kind)
        p.add_argument("--hidden-sizes", help="width of each hidden layer, e.g. 256,128")
        for switch in SWITCHES:
            p.add_argument(f"--{switch.replace('_', '-')}", dest=switch, action="store_true", default=None)

    def do_cross_validate(self, **options) -> None:
        cv = start_cross_validation(self, options)
        cv = wait_for(self, cv)
        report = cross_validation_report(cv=cv)
        if cv.status == CrossValidation.Status.SUCCEEDED and options["train"]:
            session = start_session_from_cv(self, cv)
            report["trained"] = reports.session_outcome(session)
        self.emit(report, report_text(report))
        if cv.status != CrossValidation.Status.SUCCEEDED:
            raise fail(f"cross-validation {cv.pk} {cv.status}: {cv.error}", EXIT_FAILED)


def start_cross_validation(cmd: SubcommandCommand, options: dict) -> CrossValidation:
    """Parse the flags and create the cross-validation (queued for the workers when one is alive)."""
    model, pattern = options["model"], options["pattern"]
    if bool(model) == bool(pattern):
        raise fail("give --model M, or --pattern P with --data N")
    for flag, dest in (("--config", "config"), ("--model-name", "model_name")):
        if model and options.get(dest):
            raise fail(f"{flag}: with --model the options and the model are that version's; use --pattern P for {flag}")
    if pattern is not None and pattern not in Pattern.values:
        raise fail(f"--pattern: unknown pattern {pattern!r}; expected one of {', '.join(Pattern.values)}")
    if options["epochs"] is not None and options["epochs"] <= 0:
        raise fail("--epochs must be a whole number > 0")
    if not 2 <= options["folds"] <= MAX_FOLDS:
        raise fail(f"--folds must be a whole number from 2 to {MAX_FOLDS}, got {options['folds']}")
    file = load_training_file(options["config"], storage_root=storage_root()) if options.get("config") else None
    data_ref = options["data"] or (None if model else default_dataset(cmd, flag="--data", pattern=pattern))
    dataset = dataset_get(ref=data_ref) if data_ref else None
    flags = train_options({**options, "pattern": pattern or ""}, file if pattern else None)
    if options["epochs"] is not None:
        flags["epochs"] = options["epochs"]
    in_process = not worker_alive()
    cv = cross_validation_start(
        user=None,
        dataset=dataset,
        model_name=model or options["model_name"],
        pattern=pattern,
        folds=options["folds"],
        stratified=options["stratified"],
        group_column=options["group_column"],
        time_column=options["time_column"],
        options=flags,
        enqueue=not in_process,
    )
    cv.run_here = in_process
    return cv


def wait_for(cmd: SubcommandCommand, cv: CrossValidation) -> CrossValidation:
    """Run the folds here (no worker alive) or follow the workers, a bar over the folds on stderr."""
    with tqdm(total=cv.folds, unit="fold", desc=f"cross-validation {cv.pk}", leave=False, disable=cmd.as_json) as bar:
        if cv.run_here:
            cmd.progress(f"no Celery worker is alive: training cross-validation {cv.pk}'s {cv.folds} folds here")
            return cross_validation_run_here(cv_id=cv.pk, on_fold=lambda _f: bar.update(1))
        cmd.progress(f"cross-validation {cv.pk} queued: the workers train its {cv.folds} folds")
        recovered = time.monotonic()
        while True:
            ended = cv.fold_rows.filter(status__in=["succeeded", "failed"]).count()
            bar.update(ended - bar.n)
            cv = cross_validation_settle(cv_id=cv.pk)
            if cv.is_finished:
                return cv
            if time.monotonic() - recovered > RECOVER_EVERY_S:  # a fold whose worker died is sent again
                cross_validation_folds_recover()
                recovered = time.monotonic()
            time.sleep(FOLLOW_POLL_S)


def start_session_from_cv(cmd: SubcommandCommand, cv: CrossValidation):
    """--train: a session with the cross-validated options, trained as `neural train --wait` does."""
    return start_session(cmd, wait=True, quiet=True, **cross_validation_session_args(cv=cv))


def _figure(s: dict) -> str:
    return f"{s['mean']:.4f} ± {s['sd']:.4f} (95% interval {s['ci_low']:.4f} to {s['ci_high']:.4f})"


def report_text(r: dict) -> str:
    lines = [
        f"cross-validation {r['cross_validation_id']} {r['status']}: {r['folds']} {r['method']} folds of "
        f"{r['rows']} rows of {r['dataset']} ({r['task']})"
        + (f", options of {r['model_version']}" if r["model_version"] else f", {r['pattern']} options")
    ]
    names = sorted({k for f in r["fold_results"] for k in f["metrics"]})
    header = ["fold", "status", "train", "held out", *names, "seconds"]
    rows = [
        [
            str(f["fold"]),
            f["status"],
            str(f["train_rows"]),
            str(f["test_rows"]),
            *[f"{f['metrics'][n]:.4f}" if n in f["metrics"] else "-" for n in names],
            f"{f['seconds']:.1f}" if f["seconds"] is not None else "-",
        ]
        for f in r["fold_results"]
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in [header, *rows]]
    for name in sorted(r["summary"], key=lambda n: (n != r["metric"], n)):  # its own figure first
        lines.append(f"{name}: {_figure(r['summary'][name])}")
    if r["error"]:
        lines.append(f"error: {r['error']}")
    if r.get("trained"):
        lines.append(reports.session_outcome_text(r["trained"]))
    return "\n".join(lines)
