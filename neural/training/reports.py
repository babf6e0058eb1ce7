"""Reads and measurements behind the training commands: session status and logs, validation of
a model version, its metrics, comparisons, the outcome of a distillation, and batch-size trials.

Each function returns plain JSON-ready data; the ``*_text`` helpers render it for people.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

from tqdm import tqdm

from neural.datasets.selectors import dataset_get
from neural.datasets.services import dataset_load_frame, dataset_training_inputs
from neural.engine.config import TrainConfig
from neural.engine.networks import build_network, count_parameters, hidden_sizes_for_budget
from neural.engine.pipeline import train_tabular
from neural.engine.schema import TaskKind
from neural.engine.scoring import score_frame
from neural.errors import DataError
from neural.registry.ensembles import ensemble_report, side_by_side
from neural.registry.models import ModelVersion
from neural.registry.selectors import model_version_resolve
from neural.registry.storage import version_load
from neural.training.models import TrainingSession
from neural.training.selectors import session_get, session_resolve
from neural.training.serializers import SessionLogSerializer, SessionStatusSerializer
from neural.training.tuning import tuning_job_settle

FOLLOW_POLL_S = 0.5


def resolve(ref: str) -> ModelVersion:
    version = model_version_resolve(ref=ref)
    return ModelVersion.objects.select_related("model", "dataset", "session").get(pk=version.pk)


def _predictor(version: ModelVersion):
    return version_load(version=version)


def score_key(task: str) -> str:
    return "accuracy" if TaskKind(task).is_classification else "r2"


# --- sessions -------------------------------------------------------------------------------


def session_status(*, session_id: int | str) -> dict:
    """``session_id``: an id or a session name."""
    return dict(SessionStatusSerializer(session_resolve(ref=session_id)).data)


def session_status_text(s: dict) -> str:
    metrics = " ".join(f"{k}={v:.4g}" for k, v in (s["metrics"] or {}).items() if isinstance(v, (int, float)))
    eta = f", eta {s['eta_s']}s" if s.get("eta_s") is not None else ""
    error = f" error: {s['error']}" if s.get("error") else ""
    return f"session {s['session_id']} {s['status']}: epoch {s['epoch']}/{s['epochs']}{eta} {metrics}{error}".strip()


def session_logs(*, session_id: int | str, after: int = 0) -> list[dict]:
    session = session_resolve(ref=session_id)
    return [dict(row) for row in SessionLogSerializer(session.log_lines.filter(id__gt=after), many=True).data]


def log_text(line: dict) -> str:
    return f"{line['created_at']} {line['level']:<7} {line['message']}"


def follow_logs(*, session_id: int | str, poll_s: float = FOLLOW_POLL_S) -> Iterator[dict]:
    """Every stored line, then each new one as it is written, until the session has ended."""
    session_id = session_resolve(ref=session_id).pk
    last = 0
    while True:
        finished = session_get(session_id=session_id).is_finished
        for line in session_logs(session_id=session_id, after=last):
            last = line["id"]
            yield line
        if finished:
            return
        time.sleep(poll_s)


def follow(session: TrainingSession, *, show: bool = True) -> TrainingSession:
    """Wait for a worker to finish ``session``, with a progress bar on stderr."""
    with tqdm(total=session.epochs, unit="epoch", desc=f"session {session.pk}", leave=False, disable=not show) as bar:
        while True:
            session.refresh_from_db()
            bar.update(session.epoch - bar.n)
            if session.is_finished:
                return session
            time.sleep(FOLLOW_POLL_S)


def session_outcome(session: TrainingSession) -> dict:
    version = session.model_version
    return {
        "session_id": session.pk,
        "status": session.status,
        "model": session.model_name,
        "version": version.label if version else None,
        "metrics": session.metrics,
        "error": session.error or None,
    }


def session_outcome_text(outcome: dict) -> str:
    """``session_outcome``'s document for people."""
    figures = " ".join(f"{k}={v:.4f}" for k, v in (outcome["metrics"] or {}).items() if isinstance(v, (int, float)))
    return f"session {outcome['session_id']} {outcome['status']}: {outcome['model']}:{outcome['version']} {figures}"


def run_report(run) -> dict:
    """A `--config` run with each session's outcome."""
    return {
        "run_id": run.pk,
        "source": run.source,
        "created_at": run.created_at.isoformat(),
        "config": run.config,
        "sessions": [session_outcome(s) for s in run.sessions.all()],
    }


def run_text(r: dict) -> str:
    lines = [f"run {r['run_id']} ({r['source']}, {r['created_at'][:19]}): {len(r['sessions'])} sessions"]
    return "\n".join(lines + [f"  {session_outcome_text(o)}" for o in r["sessions"]])


# --- model versions -------------------------------------------------------------------------


def validate(*, model_ref: str, dataset_ref: str | None) -> dict:
    """Score a version on its own held-out test split (as measured at training) or on a data set."""
    version = resolve(model_ref)
    key = score_key(version.task)
    base = {"model": version.model.name, "version": version.label, "metric": key}
    if dataset_ref is None:
        if key not in version.test_metrics:
            raise DataError(f"{version} has no held-out test metrics; pass --test-data", field="test_data")
        return {
            **base,
            "data": f"{version.dataset} (held-out test split)",
            "rows": version.split.get("test_rows"),
            "score": version.test_metrics[key],
            "metrics": version.test_metrics,
        }
    dataset = dataset_get(ref=dataset_ref)
    df = dataset_load_frame(dataset)
    predictor = _predictor(version)
    target = predictor.meta["target"]["name"]
    try:
        metrics = score_frame(predictor, df, target)
    except DataError as exc:
        raise DataError(f"data set {dataset}: {exc.message}", field="test_data") from exc
    rows = int(df[target].notna().sum())
    return {**base, "data": str(dataset), "rows": rows, "score": metrics[key], "metrics": metrics}


def validate_text(r: dict) -> str:
    verdict = "" if r["threshold"] is None else (" PASS" if r["passed"] else " FAIL") + f" (threshold {r['threshold']})"
    return f"{r['model']}:{r['version']} on {r['data']}, {r['rows']} rows: {r['metric']}={r['score']:.4f}{verdict}"


def metrics(*, model_ref: str, detailed: bool) -> dict:
    version = resolve(model_ref)
    out = {
        "model": version.model.name,
        "version": version.label,
        "task": version.task,
        "validation": version.metrics,
        "test": version.test_metrics,
        "parameters": version.n_parameters,
        "kind": version.kind,
        "ensemble": ensemble_report(version=version),
    }
    if detailed:
        out["classes"] = version.classes
        out["confusion_matrix"] = version.confusion_matrix
        out["per_class"] = version.per_class()
        out["split"] = version.split
        out["transfer"] = _predictor(version).meta.get("transfer")  # what a fine-tuned version started from
        out["epochs"] = (
            [{"epoch": e.epoch, **e.metrics} for e in version.session.epoch_metrics.order_by("epoch")]
            if version.session_id
            else []
        )
    return out


def metrics_text(r: dict) -> str:
    lines = [f"{r['model']}:{r['version']} ({r['task']}, {r['parameters']} parameters)"]
    lines += [f"  validation {k}: {v:.4f}" for k, v in r["validation"].items()]
    lines += [f"  test {k}: {v:.4f}" for k, v in r["test"].items()]
    ensemble = r.get("ensemble")
    if ensemble:
        lines.append(f"  ensemble: {ensemble['method']} of {len(ensemble['members'])} members; side by side:")
        lines.append(side_by_side(ensemble["members"], ensemble["ensemble_test_metrics"]))
    if r.get("confusion_matrix"):
        lines.append("  confusion matrix (rows: truth, columns: predicted) " + " ".join(map(str, r["classes"])))
        lines += ["    " + " ".join(f"{n:6d}" for n in row) for row in r["confusion_matrix"]]
    if r.get("per_class"):
        lines += ["  " + line for line in per_class_text(r["per_class"]).splitlines()]
    for e in r.get("epochs", []):
        lines.append("  epoch " + " ".join(f"{k}={v:.4g}" for k, v in e.items()))
    return "\n".join(lines)


def compare(*, model_refs: list[str]) -> list[dict]:
    rows = []
    for ref in model_refs:
        version = resolve(ref)
        meta = _predictor(version).meta
        rows.append(
            {
                "model": f"{version.model.name}:{version.label}",
                "dataset": str(version.dataset),
                "split": version.split,
                "task": version.task,
                **{f"val_{k}" if not k.startswith("val_") else k: v for k, v in version.metrics.items()},
                **{f"test_{k}": v for k, v in version.test_metrics.items()},
                "parameters": version.n_parameters,
                "kind": version.kind,
                "training_time_s": meta.get("training_time_s"),
                "per_class": version.per_class(),
            }
        )
    return rows


PER_CLASS_COLUMNS = (
    ("support", "support"),
    ("precision", "precision"),
    ("recall", "detection rate (recall)"),
    ("false_positive_rate", "false-positive rate"),
    ("f1", "F1"),
)


def per_class_text(per_class: dict) -> str:
    """``ModelVersion.per_class``'s figures as a table, with the binary decision threshold."""
    header = ["class", *(title for _, title in PER_CLASS_COLUMNS)]
    table = [header] + [
        [str(row["class"]), *(_cell(row[key]) for key, _ in PER_CLASS_COLUMNS)] for row in per_class["classes"]
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["per class, held-out test rows (one class against the rest):"]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in table]
    threshold = per_class.get("threshold")
    if threshold:
        positive, above = threshold["positive_class"], threshold["probability"]
        lines.append(f"decision threshold: {positive} when its probability is above {above}")
    return "\n".join(lines)


def compare_text(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(k for r in rows for k in r if k not in ("split", "per_class")))
    table = [columns] + [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    split = "split: " + "; ".join(
        f"{r['model']} train/val/test={r['split'].get('train_rows')}/{r['split'].get('val_rows')}/"
        f"{r['split'].get('test_rows')} seed {r['split'].get('seed')}"
        for r in rows
    )
    per_class = [f"{r['model']} {per_class_text(r['per_class'])}" for r in rows if r.get("per_class")]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in table]
    return "\n".join([*lines, split, *per_class])


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "-" if value is None else str(value)


# --- simplify and batch size ----------------------------------------------------------------


def check_budget(version: ModelVersion, budget: int) -> None:
    """Refuse a budget no network for the version's inputs can meet, before anything starts."""
    predictor = _predictor(version)
    # An ensemble's members read the same inputs: the first one's layout sizes the student.
    arch = (predictor.members[0] if version.kind == ModelVersion.Kind.ENSEMBLE else predictor).meta["architecture"]
    if hidden_sizes_for_budget(arch, budget) is None:
        smallest = count_parameters(build_network({**arch, "hidden_sizes": [2], "residual": False}))
        raise DataError(
            f"--target-params {budget} is too small: the smallest network for this model's "
            f"{arch['n_numeric']} inputs has {smallest} parameters",
            field="target_params",
        )


def simplify_report(*, parent: ModelVersion, session: TrainingSession) -> dict:
    child = session.model_version
    key = score_key(parent.task)
    before, after = parent.test_metrics.get(key), child.test_metrics.get(key)
    return {
        "model": parent.model.name,
        "parent_version": parent.label,
        "version": child.label,
        "metric": key,
        "parent_parameters": parent.n_parameters,
        "parameters": child.n_parameters,
        "parent_score": before,
        "score": after,
        "change": None if before is None or after is None else after - before,
        "session_id": session.pk,
    }


def simplify_text(r: dict) -> str:
    change = "" if r["change"] is None else f" ({r['change']:+.4f})"
    return (
        f"{r['model']}:{r['version']} distilled from {r['parent_version']}: {r['parameters']} parameters "
        f"(was {r['parent_parameters']}), test {r['metric']} {r['score']:.4f} (was {r['parent_score']:.4f}){change}"
    )


def optimize_batch_size(*, model_ref: str, sizes: list[int], epochs: int, progress=None) -> dict:
    """Train a few epochs at each batch size on the version's data set and config (the same
    split and seed); recommend the size with the lowest validation loss, the faster on a tie."""
    version = resolve(model_ref)
    inputs = dataset_training_inputs(version.dataset)
    base = TrainConfig.from_dict(version.config)
    train_rows = version.split.get("train_rows") or len(inputs["df"])
    usable = [s for s in sizes if s <= max(2, train_rows)]
    if not usable:
        raise DataError(f"every candidate exceeds the {train_rows} training rows", field="candidates")
    trials = []
    for size in progress(usable, desc="batch sizes", unit="size") if progress else usable:
        config = replace(base, batch_size=size, epochs=epochs, early_stopping=False)
        started = time.perf_counter()
        trained = train_tabular(**inputs, config=config)
        seconds = time.perf_counter() - started
        best = min(h["val_loss"] for h in trained.fit.history)
        trials.append(
            {
                "batch_size": size,
                "best_val_loss": best,
                "seconds": round(seconds, 3),
                "rows_per_s": round(train_rows * epochs / seconds, 1),
                **{k: v for k, v in trained.metrics.items() if k != "val_loss"},
            }
        )
    best = min(trials, key=lambda t: (round(t["best_val_loss"], 4), t["seconds"]))
    return {
        "model": version.model.name,
        "version": version.label,
        "epochs": epochs,
        "current": base.batch_size,
        "recommended": best["batch_size"],
        "trials": trials,
    }


def batch_size_text(r: dict) -> str:
    lines = [f"{r['model']}:{r['version']}, {r['epochs']} epochs per batch size (current {r['current']})"]
    lines += [
        f"  {t['batch_size']:>6}  val_loss={t['best_val_loss']:.4f}  {t['seconds']:.1f}s  {t['rows_per_s']:.0f} rows/s"
        for t in r["trials"]
    ]
    lines.append(f"recommended batch size: {r['recommended']}")
    return "\n".join(lines)


# --- hyper-optimize -------------------------------------------------------------------------


SETTLE_EVERY_S = 5.0


def follow_tuning(job, bar) -> object:
    """Wait for the workers to finish a tuning job, moving ``bar`` as trial slots are taken, and
    now and then settling it (a trial whose worker died is failed once its heartbeat is stale)."""
    settled = time.monotonic()
    while True:
        job.refresh_from_db()
        bar.update(job.trials_claimed - bar.n)
        if job.is_finished:
            return job
        if time.monotonic() - settled > SETTLE_EVERY_S:
            job, settled = tuning_job_settle(job_id=job.pk), time.monotonic()
            continue
        time.sleep(FOLLOW_POLL_S)


def tuning_text(r: dict) -> str:
    counts = ", ".join(f"{n} {state}" for state, n in r["counts"].items() if n)
    lines = [
        f"tuning job {r['job_id']} {r['status']}: {r['method']} search ({r['space']} space) on "
        f"{r['model']}:{r['version']}, "
        f"{r['trials_requested']} trials of at most {r['epochs_per_trial']} epochs ({counts or 'none ran'}), "
        f"{r['direction']} validation {r['objective']}"
    ]
    names = option_names(r)
    header = ["trial", "state", r["objective"], *names, "parameters", "seconds"]
    table = [header] + [
        [
            str(t["number"]),
            t["state"],
            _cell(t["value"]),
            *[option_text(t["params"].get(n)) for n in names],
            _cell(t["parameters"]),
            "-" if t["seconds"] is None else f"{t['seconds']:.1f}",
        ]
        for t in r["trials"]
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in table]
    if r["best"]:
        best = r["best"]
        options = " ".join(f"{k}={option_text(v)}" for k, v in best["params"].items())
        baseline = "" if r["baseline"] is None else f" ({r['version']}: {r['baseline']:.4f} on the same rows)"
        lines.append(
            f"best: trial {best['trial']}, validation {r['objective']} {best['value']:.4f}{baseline}: {options}"
        )
    if len(r["pareto"]) > 1:
        by_number = {t["number"]: t for t in r["trials"]}
        front = ", ".join(
            f"{by_number[n]['parameters']:,} parameters {by_number[n]['value']:.4f} (trial {n})" for n in r["pareto"]
        )
        lines.append(f"no smaller network scores better: {front}")
    if r.get("error"):
        lines.append(f"error: {r['error']}")
    if r.get("trained"):
        lines.append("trained the best options: " + session_outcome_text(r["trained"]))
    return "\n".join(lines)


def option_names(report: dict) -> list[str]:
    """The searched options of a ``tuning_report``, in the order its trials drew them."""
    return list(dict.fromkeys(k for t in report["trials"] for k in t["params"]))


def option_text(value) -> str:
    """A searched option: 4 significant digits (a weight decay of 2.6e-06 is not 0.0000)."""
    return f"{value:.4g}" if isinstance(value, float) else _cell(value)
