"""The searches: `neural hyper-optimize` (training options) and `neural architecture-search`
(network shapes), one Optuna job each, run on the Celery workers or here when none is alive; and
`neural search-cancel --search ID`."""

from __future__ import annotations

from tqdm import tqdm

from neural.datasets.models import Pattern
from neural.engine import tuning
from neural.engine.names import name_from_text
from neural.management.base import EXIT_FAILED, SubcommandCommand, fail
from neural.management.cli.training import start_session
from neural.training import reports
from neural.training.search_control import tuning_job_cancel
from neural.training.selectors import tuning_job_get
from neural.training.services import worker_alive
from neural.training.tuning import MAX_TRIALS, best_config, tuning_job_create, tuning_job_run, tuning_report


class SearchCommands:
    """Mixed into the `neural` command; see SubcommandCommand."""

    search_subcommands = {
        "architecture-search": "Search network shapes (layers, widths, residual blocks, normalisation) for a "
        "pattern's model with Optuna; reports each shape's size and the accuracy-size front.",
        "hyper-optimize": "Search learning rate, regularisation and network shape with Optuna (trials run on "
        "the Celery workers, or here when none is alive); --train-best trains the best into a new version.",
        "search-cancel": "Cancel a queued or running search (hyper-optimize or architecture-search): its queued "
        "trials never start, running ones stop at their next epoch end.",
    }

    def add_search_cancel_arguments(self, p) -> None:
        p.add_argument("--search", required=True, type=int, help="the search's id (the job id that started it)")

    def do_search_cancel(self, *, search: int, **_) -> None:
        job = tuning_job_cancel(job=tuning_job_get(job_id=search))
        document = {"job_id": job.pk, "status": job.status, "trials_claimed": job.trials_claimed, "trials": job.trials}
        self.emit(
            document,
            f"search {job.pk} cancelled: {job.trials - job.trials_claimed} queued trial(s) will not start; "
            "running ones stop at their next epoch end",
        )

    def add_hyper_optimize_arguments(self, p) -> None:
        p.add_argument("--model", required=True, help="name or name:vN: its data set, split and config are the base")
        p.add_argument("--trials", type=int, default=20, help="trials in all (default 20)")
        add_search_arguments(p)

    def do_hyper_optimize(self, *, model: str, trials: int, **options) -> None:
        run_search(self, version=reports.resolve(model), space="hyper", trials=trials, **options)

    def add_architecture_search_arguments(self, p) -> None:
        p.add_argument("--task", required=True, help="a pattern: its model (named after it, or --model) is the base")
        p.add_argument("--model", help="name or name:vN (default: the model named after --task)")
        p.add_argument(
            "--search-space",
            default="efficient",
            help=f"{', '.join(s for s in tuning.SPACES if s != 'hyper')} (default efficient: small networks)",
        )
        p.add_argument("--budget", type=int, default=20, help="architectures to try (trials, default 20)")
        add_search_arguments(p)

    def do_architecture_search(
        self, *, task: str, model: str | None, search_space: str, budget: int, **options
    ) -> None:
        if task not in Pattern.values:
            raise fail(f"--task: unknown pattern {task!r}; expected one of {', '.join(Pattern.values)}")
        if search_space == "hyper" or search_space not in tuning.SPACES:
            spaces = ", ".join(s for s in tuning.SPACES if s != "hyper")
            raise fail(f"--search-space: unknown space {search_space!r}; choose one of {spaces}")
        if not 1 <= budget <= MAX_TRIALS:
            raise fail(f"--budget must be a whole number from 1 to {MAX_TRIALS}, got {budget}")
        run_search(self, version=reports.resolve(model or task), space=search_space, trials=budget, **options)


def add_search_arguments(p) -> None:
    """The options `hyper-optimize` and `architecture-search` share."""
    p.add_argument("--method", default="bayesian", help=f"{', '.join(tuning.METHODS)} (default bayesian: TPE)")
    p.add_argument(
        "--optimize", help="validation figure to optimise: accuracy, macro_f1, roc_auc or loss; r2, mae or loss"
    )
    p.add_argument("--epochs", type=int, help="epochs per trial at most (default: the version's)")
    p.add_argument("--train-best", action="store_true", help="then train the best options into a new version")


def run_search(
    cmd: SubcommandCommand,
    *,
    version,
    space: str,
    trials: int,
    method: str,
    optimize: str | None,
    epochs: int | None,
    train_best: bool,
    **_,
) -> None:
    """Create a search job, run it (on the workers, or here when none is alive), print the
    report; exit 1 when no trial completed. With ``train_best``, train the best into a version."""
    in_process = not worker_alive()
    job = tuning_job_create(
        user=None,
        version=version,
        method=method,
        trials=trials,
        objective=optimize,
        epochs=epochs,
        space=space,
        enqueue=not in_process,
    )
    with tqdm(total=job.trials, unit="trial", desc=f"tuning job {job.pk}", leave=False, disable=cmd.as_json) as bar:
        if in_process:
            cmd.progress(f"no Celery worker is alive: running tuning job {job.pk}'s {job.trials} trials here")
            job = tuning_job_run(job_id=job.pk, on_trial=lambda _t: bar.update(1))
        else:
            cmd.progress(f"tuning job {job.pk} queued; the workers run its {job.trials} trials")
            job = reports.follow_tuning(job, bar)
    report = tuning_report(job=job)
    if job.status != job.Status.SUCCEEDED:
        cmd.emit(report, reports.tuning_text(report))
        raise fail(f"tuning job {job.pk} {job.status}: {job.error or 'no trial completed'}", EXIT_FAILED)
    if train_best:
        session = start_session(
            cmd,
            dataset=version.dataset,
            pattern=version.model.pattern,
            config=best_config(job),
            model_name=version.model.name,
            session_name=name_from_text(f"best of tuning job {job.pk} on {version}"),
            wait=True,
            parent_version=version,
            quiet=True,
        )
        report["trained"] = reports.session_outcome(session)
    cmd.emit(report, reports.tuning_text(report))
