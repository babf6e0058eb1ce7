"""Runs side by side: /compare/?sessions=1,2,3 overlays their curves (read from the metrics API,
downsampled there) and tables their options, times, best epochs, tags and notes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import path

from dashboard.pages.training import json_script
from neural.training.reports import option_text
from neural.training.selectors import best_epoch, sessions_get

MAX_RUNS = 12
METRICS = ["val_loss", "train_loss", "val_accuracy", "val_macro_f1", "val_r2", "val_mae", "lr", "batch_loss"]


@login_required
def compare(request):
    ids, problem = _ids(request.GET.get("sessions", ""))
    sessions = sessions_get(session_ids=ids) if not problem else []
    missing = [i for i in ids if i not in {s.pk for s in sessions}]
    if missing and not problem:
        problem = "no training session " + ", ".join(map(str, missing))
    runs = [_run(s) for s in sessions]
    keys = sorted({k for r in runs for k in r["config"]})
    options = [
        {
            "name": k,
            "values": [r["config"].get(k, "") for r in runs],
            "differs": len({r["config"].get(k) for r in runs}) > 1,
        }
        for k in keys
    ]
    context = {
        "runs": runs,
        "options": options,
        "metrics": METRICS,
        "problem": problem,
        "asked": request.GET.get("sessions", ""),
        "data_script": json_script({"runs": runs}, "compare-data"),
    }
    return render(request, "dashboard/compare.html", context, status=400 if problem and not runs else 200)


def _ids(raw: str) -> tuple[list[int], str]:
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not parts:
        return [], ""
    if len(parts) > MAX_RUNS:
        return [], f"at most {MAX_RUNS} sessions at once"
    if not all(p.isdigit() and len(p) < 10 for p in parts):
        return [], "sessions is a comma-separated list of session ids, e.g. 3,7,12"
    return list(dict.fromkeys(int(p) for p in parts)), ""


def _run(session) -> dict:
    best = best_epoch(session=session)
    split = session.model_version.split if session.model_version_id else {}
    batch = session.config.get("batch_size")
    train_rows = split.get("train_rows") if split else None
    started, finished = session.started_at, session.finished_at
    return {
        "id": session.pk,
        "label": f"#{session.pk} {session.name or session.model_name}",
        "status": session.status,
        "epoch": session.epoch,
        "epochs": session.epochs,
        "started_at": started.isoformat() if started else None,
        "finished_at": finished.isoformat() if finished else None,
        "duration_s": (finished - started).total_seconds() if started and finished else None,
        "best_epoch": best.epoch if best else None,
        "best_val_loss": best.val_loss if best else None,
        "tags": session.tags,
        "notes": session.notes,
        "dataset": str(session.dataset),
        # The trainer's batches per epoch (a last batch of one row waits for the next epoch).
        "steps_per_epoch": _steps(train_rows, batch) if train_rows and batch else None,
        "config": {k: option_text(v) for k, v in session.config.items()},
    }


def _steps(rows: int, batch: int) -> int:
    full, rest = divmod(rows, batch)
    return full + (1 if rest > 1 or full == 0 else 0)


urlpatterns = [path("compare/", compare, name="compare")]
