"""`training neural-train` and its alias `neural train`: one implementation for both."""

from __future__ import annotations

import time

from tqdm import tqdm

from neural.datasets.models import Pattern
from neural.datasets.selectors import dataset_get
from neural.management.base import EXIT_FAILED, SubcommandCommand, fail
from neural.training.models import TrainingSession
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
}


class TrainingCommands:
    """`neural train`, the alias of `training neural-train`; mixed into the `neural` command."""

    training_subcommands = {"train": "Alias of `training neural-train`."}

    def add_train_arguments(self, p) -> None:
        add_train_arguments(p)

    def do_train(self, **options) -> None:
        run_train(self, options)


def add_train_arguments(p) -> None:
    p.add_argument("--pattern", required=True, help=", ".join(Pattern.values))
    p.add_argument("--data", required=True, help="data set name, or name:vN")
    p.add_argument("--epochs", type=int)
    p.add_argument("--model-name")
    p.add_argument("--session-name", default="")
    p.add_argument("--wait", action="store_true", help="wait for the result (trains here when no worker is alive)")
    for dest, (flag, kind) in OPTION_FLAGS.items():
        p.add_argument(flag, dest=dest, type=kind)
    p.add_argument("--gpu", action="store_true", default=None)
    p.add_argument("--mixed-precision", action="store_true", default=None)


def run_train(cmd: SubcommandCommand, options: dict) -> None:
    if options["pattern"] not in Pattern.values:
        raise fail(f"--pattern: unknown pattern {options['pattern']!r}; expected one of {', '.join(Pattern.values)}")
    if options["epochs"] is not None and options["epochs"] <= 0:
        raise fail("--epochs must be a whole number > 0")
    dataset = dataset_get(ref=options["data"])
    overrides = {k: options[k] for k in [*OPTION_FLAGS, "gpu", "mixed_precision"] if options.get(k) is not None}
    config = training_config_build(epochs=options["epochs"], options=overrides)
    in_process = options["wait"] and not worker_alive()
    session = training_session_create(
        user=None,
        dataset=dataset,
        pattern=options["pattern"],
        config=config,
        model_name=options["model_name"],
        session_name=options["session_name"],
        enqueue=not in_process,
    )
    if not options["wait"]:
        cmd.emit(
            {"session_id": session.pk, "status": session.status, "model": session.model_name},
            f"session {session.pk} queued for model {session.model_name}",
        )
        return
    if in_process:
        cmd.progress(f"no Celery worker is alive: training session {session.pk} in this process")
        session = training_session_run(session_id=session.pk, ran_in="cli")
    else:
        cmd.progress(f"session {session.pk} queued; a worker is training it")
        session = _follow(session)
    version = session.model_version
    cmd.emit(
        {
            "session_id": session.pk,
            "status": session.status,
            "model": session.model_name,
            "version": version.label if version else None,
            "metrics": session.metrics,
            "error": session.error or None,
        },
        f"session {session.pk} {session.status}"
        + (
            f": {session.model_name}:{version.label} " + " ".join(f"{k}={v:.4f}" for k, v in session.metrics.items())
            if version
            else f" {session.error}"
        ),
    )
    if session.status != TrainingSession.Status.SUCCEEDED:
        raise fail(f"training {session.status}: {session.error or 'no model was registered'}", EXIT_FAILED)


def _follow(session: TrainingSession) -> TrainingSession:
    with tqdm(total=session.epochs, unit="epoch", desc=f"session {session.pk}", leave=False) as bar:
        while True:
            session.refresh_from_db()
            bar.update(session.epoch - bar.n)
            if session.is_finished:
                return session
            time.sleep(0.5)
