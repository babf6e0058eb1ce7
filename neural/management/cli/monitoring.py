"""`neural feedback | accuracy | drift-detection | alerts | retrain-policy | dashboard`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from django.conf import settings

from neural.errors import DataError
from neural.management.base import fail
from neural.monitoring import alerts as alert_services
from neural.monitoring.overview import overview_summary
from neural.monitoring.retraining import retrain_policy_set
from neural.monitoring.selectors import accuracy_buckets, alert_list
from neural.monitoring.services import (
    drift_check,
    drift_report_document,
    feedback_record_bulk,
    parse_duration,
    validate_fraction,
)
from neural.registry.selectors import model_get, model_version_resolve


def _fraction(text: str) -> float:
    """argparse type: a number in [0, 1], else one clear line and exit 2."""
    try:
        return validate_fraction(text, field="threshold")
    except DataError as exc:
        raise fail(f"{exc.message}") from exc


class MonitoringCommands:
    """Mixed into the `neural` command; see SubcommandCommand."""

    monitoring_subcommands = {
        "feedback": "Record ground truth for logged predictions (CSV or JSON file of prediction_id, actual).",
        "accuracy": "Realised and estimated accuracy per time bucket and version.",
        "drift-detection": "Compare recent prediction inputs with the training profile (PSI, Jensen–Shannon).",
        "alerts": "List alerts, or --setup default alert rules for every active model.",
        "retrain-policy": "Set a model's retraining schedule / drift trigger and promotion tolerance.",
        "dashboard": "Print the overview page's URL and a terminal summary of it.",
    }

    def add_feedback_arguments(self, p) -> None:
        p.add_argument("--file", type=Path, required=True, help="CSV or JSON/JSONL with prediction_id, actual")

    def do_feedback(self, *, file: Path, **_) -> None:
        if not file.is_file():
            raise fail(f"--file: {file} does not exist")
        try:
            if file.suffix.lower() in (".json", ".jsonl"):
                frame = pd.read_json(file, lines=file.suffix.lower() == ".jsonl", dtype=False)
            else:
                frame = pd.read_csv(file, dtype={"prediction_id": str})
        except ValueError as exc:
            raise fail(f"--file: not readable ({exc})") from exc
        missing = {"prediction_id", "actual"} - set(frame.columns)
        if missing:
            raise fail(f"--file: missing column(s) {', '.join(sorted(missing))}")
        items = json.loads(frame[["prediction_id", "actual"]].to_json(orient="records"))
        rows = feedback_record_bulk(items=items, prefix="rows")
        correct = [r.correct for r in rows if r.correct is not None]
        summary = {"count": len(rows), "correct": sum(correct), "labelled_classifier_rows": len(correct)}
        self.emit(summary, f"{len(rows)} label(s) recorded")

    def add_accuracy_arguments(self, p) -> None:
        p.add_argument("--model", required=True)
        p.add_argument("--timeframe", default="30d", help="how far back, e.g. 30d, 12h")
        p.add_argument("--bucket", default="1d", help="bucket width, e.g. 1d, 1h")

    def do_accuracy(self, *, model: str, timeframe: str, bucket: str, **_) -> None:
        doc = accuracy_buckets(
            model=model_get(name=model),
            timeframe=parse_duration(timeframe, field="timeframe"),
            bucket=parse_duration(bucket, field="bucket"),
        )
        lines = [f"{'start':25} {'version':7} {'labels':>6} {'accuracy':>9} {'estimated':>9}"]
        for b in doc["buckets"]:
            realised = b.get("mae") if "mae" in b else b["accuracy"]
            lines.append(
                f"{b['start'][:25]:25} {b['version']:7} {b['count']:>6} {_fmt(realised):>9} "
                f"{_fmt(b['estimated_accuracy']):>9}"
            )
        self.emit(doc, "\n".join(lines) if doc["buckets"] else f"{model}: no predictions in the last {timeframe}")

    def add_drift_detection_arguments(self, p) -> None:
        p.add_argument("--model", required=True, help="name or name:vN")
        p.add_argument("--threshold", type=_fraction, default=0.05, help="significance level (false-alarm rate)")
        p.add_argument("--window", default="1d")

    def do_drift_detection(self, *, model: str, threshold: float, window: str, **_) -> None:
        version = model_version_resolve(ref=model)
        report = drift_check(version=version, window=parse_duration(window, field="window"), alpha=threshold)
        doc = drift_report_document(report, window=window)
        lines = [f"{doc['model']} {doc['version']}: {doc['rows']} rows, drift score {doc['drift_score']:.2f}"]
        lines += [
            f"  {f['name']:24} {f['method']:15} {f['value']:.4f} (threshold {f['threshold']:.4f})"
            + ("  DRIFT" if f["drifted"] else "")
            for f in doc["features"]
        ]
        self.emit(doc, "\n".join(lines))

    def add_alerts_arguments(self, p) -> None:
        p.add_argument("--setup", action="store_true", help="create default rules for every active model")
        p.add_argument("--threshold-accuracy", type=_fraction, default=0.7)
        p.add_argument("--threshold-drift", type=_fraction, default=0.3, help="drift score (share of features)")
        p.add_argument("--drift-windows", type=int, default=3, help="consecutive drifted windows")
        p.add_argument("--latency-p99-ms", type=float, default=1000.0)
        p.add_argument("--email", action="append", default=[], help="repeatable")
        p.add_argument("--webhook-url", default="")
        p.add_argument("--webhook-secret", default="")
        p.add_argument("--status", choices=["firing", "acknowledged", "resolved"])

    def do_alerts(self, *, setup: bool, status: str | None, **options) -> None:
        if setup:
            rules = alert_services.alert_rules_setup_defaults(
                threshold_accuracy=options["threshold_accuracy"],
                drift_threshold=options["threshold_drift"],
                drift_windows=options["drift_windows"],
                latency_p99_ms=options["latency_p99_ms"],
                emails=options["email"],
                webhook_url=options["webhook_url"],
                webhook_secret=options["webhook_secret"],
            )
            doc = {"rules": [{"model": r.model.name, "kind": r.kind, "threshold": r.threshold} for r in rules]}
            text = "\n".join(f"{r.model.name}: {r.kind} {r.threshold:g}" for r in rules) or "no active models"
            self.emit(doc, text)
            return
        alerts = list(alert_list(status=status)[:100])
        doc = [alert_services.alert_payload(a) for a in alerts]
        self.emit(doc, "\n".join(f"#{a.pk} [{a.status}] {a.message}" for a in alerts) or "no alerts")

    def add_retrain_policy_arguments(self, p) -> None:
        p.add_argument("--model", required=True)
        p.add_argument(
            "--schedule",
            default="",
            help="daily, weekly, monthly or a cron expression such as '30 2 * * 1-5' (empty: none)",
        )
        p.add_argument("--on-drift", action="store_true", help="retrain when a drift alert fires")
        p.add_argument("--tolerance", type=_fraction, default=0.0)
        p.add_argument("--rollout-weight", type=int, default=0, help="1-99: A/B rollout instead of promotion")

    def do_retrain_policy(self, *, model: str, schedule: str, on_drift: bool, tolerance: float, **options) -> None:
        policy = retrain_policy_set(
            model=model_get(name=model),
            schedule=schedule,
            on_drift=on_drift,
            tolerance=tolerance,
            rollout_weight=options["rollout_weight"],
        )
        doc = {
            "model": model,
            "schedule": policy.schedule,
            "on_drift": policy.on_drift,
            "tolerance": policy.tolerance,
            "rollout_weight": policy.rollout_weight,
        }
        self.emit(doc, json.dumps(doc))

    def add_dashboard_arguments(self, p) -> None:
        p.add_argument("--url", default=None, help="base URL (default http://127.0.0.1:$PORT/)")

    def do_dashboard(self, *, url: str | None, **_) -> None:
        base = url or f"http://127.0.0.1:{settings.PORT}/"
        summary = overview_summary()
        doc = {"url": base, **summary}
        lines = [f"Overview: {base}"]
        for m in summary["models"]:
            lines.append(
                f"  {m['name']} {m['version']} ({m['pattern']}, target {_fmt(m['target'])}): "
                f"accuracy {_fmt(m['accuracy'])} / estimated {_fmt(m['estimated_accuracy'])}, "
                f"drift {_fmt(m['drift_score'])}"
            )
        lines.append(f"  firing alerts: {len(summary['alerts'])}")
        lines += [f"    #{a['id']} {a['message']}" for a in summary["alerts"]]
        lines.append(f"  running trainings: {len(summary['trainings'])}")
        lines += [
            f"    session {t['id']} {t['model_name']} epoch {t['epoch']}/{t['epochs']}" for t in summary["trainings"]
        ]
        self.emit(doc, "\n".join(lines))


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"
