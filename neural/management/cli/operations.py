"""From laptop to CI to production: `neural setup | validate --all | save --all | dashboard --models
| deploy --production | robustness`.

Mixed into the `neural` command before the area mixins: `validate`, `save` and `dashboard` keep
their one-model form (handed to the area's method) and gain the fleet form here.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from neural.datasets.models import Dataset, Pattern
from neural.engine.training_file import parse_training_file
from neural.engine.training_template import render_training_file
from neural.management.base import EXIT_FAILED, fail
from neural.management.cli.defaults import default_model
from neural.monitoring import deployment
from neural.monitoring.overview import overview_summary
from neural.registry.robustness import robustness_text, version_robustness_run
from neural.registry.selectors import model_get
from neural.registry.storage import version_archive_write
from neural.training import reports
from neural.training.services import worker_alive
from photondrift import readiness

CONFIG_NAME = ".neural-training.yml"


class OperationsCommands:
    """Mixed into the `neural` command; see SubcommandCommand."""

    operations_subcommands = {
        "setup": f"Write a commented {CONFIG_NAME} and check what the run mode needs (database, broker, "
        "channel layer, storage, disk); print what is missing and how to fix it.",
        "deploy": "Validate each candidate version, then activate it (or start a rollout); exit 1 and change "
        "nothing when one is below the threshold.",
        "robustness": "Accuracy under seeded perturbations and gradient attacks of held-out rows; stored with "
        "the version.",
        "validate": "Score a model (or --all active models) on held-out rows or --test-data; exit 1 below --threshold.",
        "save": "Write a model version (or --all active ones) to portable archives (tar with checksums and a "
        "manifest).",
        "dashboard": "Print the overview page's URL (PORT or --url) and a summary of --models all|A,B.",
    }

    # --- setup ------------------------------------------------------------------------------

    def add_setup_arguments(self, p) -> None:
        p.add_argument(
            "--path", type=Path, default=Path(CONFIG_NAME), help=f"the file to write (default {CONFIG_NAME})"
        )
        p.add_argument("--force", action="store_true", help="overwrite an existing file")
        p.add_argument("--no-config", action="store_true", help="only run the checks")
        p.add_argument(
            "--mode",
            choices=["auto", "embedded", "production"],
            default="auto",
            help="the run mode to check for (default: production when DATABASE_URL is PostgreSQL)",
        )
        p.add_argument(
            "--pattern",
            action="append",
            choices=Pattern.values,
            help="a model to put in the file (repeatable; default: the stored data sets' patterns)",
        )
        p.add_argument("--min-free-gb", type=float, default=1.0, help="disk space the storage needs (default 1)")

    def do_setup(self, *, path: Path, force: bool, no_config: bool, mode: str, pattern, min_free_gb: float, **_):
        if min_free_gb < 0:
            raise fail("--min-free-gb must be >= 0")
        if not no_config and path.exists() and not force:
            raise fail(f"--path: {path} exists; pass --force to overwrite it (or --no-config to only check)")
        if not no_config and path.exists() and not path.is_file():
            raise fail(f"--path: {path} is not a file")
        mode = readiness.run_mode() if mode == "auto" else mode
        checks = readiness.readiness(mode=mode, min_free_bytes=int(min_free_gb * readiness.GIB))
        database_ok = checks[0].ok
        written = None if no_config else self._write_config(path, pattern, read_datasets=database_ok)
        alive = database_ok and worker_alive()
        checks.append(
            readiness.Check(
                "worker",
                alive,
                "a worker's heartbeat is fresh" if alive else "no worker heartbeat",
                "start one: `make worker` (or `celery -A photondrift worker -Q training,default`); until then "
                "`--wait` trains in the command's own process",
                required=False,  # without one, --wait trains in the command's own process
            )
        )
        missing = [c for c in checks if not c.ok and c.required]
        doc = {"mode": mode, "config": written, "ready": not missing, "checks": [c.to_dict() for c in checks]}
        lines = [f"wrote {written}" if written else "config file not written (--no-config)", f"run mode: {mode}"]
        for c in checks:
            mark = "ok  " if c.ok else ("MISSING" if c.required else "note")
            lines.append(f"  {mark:<7} {c.name:<26} {c.detail}" + ("" if c.ok else f"\n          fix: {c.fix}"))
        lines.append("ready" if not missing else f"{len(missing)} requirement(s) missing")
        self.emit(doc, "\n".join(lines))
        if missing:
            raise fail(f"setup: missing {', '.join(c.name for c in missing)}", EXIT_FAILED)

    def _write_config(self, path: Path, patterns: list[str] | None, *, read_datasets: bool) -> str:
        """The file for ``patterns`` (default: the stored data sets'), listing the newest data sets."""
        newest = {}
        for ds in Dataset.objects.order_by("-created_at").only("name", "pattern") if read_datasets else []:
            newest.setdefault(ds.name, ds.pattern)
        patterns = patterns or sorted(set(newest.values())) or [Pattern.PREDICTION]
        sources = [name for name, p in newest.items() if p in patterns]
        text = render_training_file(
            patterns=list(dict.fromkeys(patterns)),
            data_sources=sources,
            storage_path="models",
        )
        parse_training_file(text, source=str(path))  # what setup writes always loads
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(text)
        os.replace(partial, path)  # never a half-written file
        return str(path)

    # --- validate --all ---------------------------------------------------------------------

    def add_validate_arguments(self, p) -> None:
        which = p.add_mutually_exclusive_group(required=True)
        which.add_argument("--model", help="name or name:vN")
        which.add_argument("--all", action="store_true", help="every active model")
        p.add_argument("--test-data", help="a data set with the model's target and features (default: its test split)")
        p.add_argument(
            "--threshold",
            type=_unit("--threshold"),
            help="accuracy (or R²) below which the command exits 1 (with --all, default: each "
            "classifier's pattern target)",
        )

    def do_validate(self, *, model, all: bool, test_data, threshold, **options) -> None:
        if not all:
            return super().do_validate(model=model, test_data=test_data, threshold=threshold, **options)
        rows = deployment.validate_all(test_data=test_data, threshold=threshold)
        if not rows:
            raise fail("--all: no model has an active version; train one first", EXIT_FAILED)
        failed = [r for r in rows if not r["passed"]]
        self.emit({"passed": not failed, "models": rows}, _table(rows))
        if failed:
            raise fail(f"below threshold: {', '.join(r['model'] for r in failed)}", EXIT_FAILED)

    # --- save --all -------------------------------------------------------------------------

    def add_save_arguments(self, p) -> None:
        which = p.add_mutually_exclusive_group(required=True)
        which.add_argument("--model", help="name (its active version) or name:vN")
        which.add_argument("--all", action="store_true", help="every active model, one archive each, into --path")
        p.add_argument("--path", required=True, type=Path, help="the archive file (a folder with --all)")

    def do_save(self, *, model, all: bool, path: Path, **options) -> None:
        if not all:
            return super().do_save(model=model, path=path, **options)
        if path.exists() and not path.is_dir():
            raise fail(f"--path: {path} is a file; with --all it is the folder the archives go to")
        versions = deployment.active_versions()
        if not versions:
            raise fail("--all: no model has an active version to save", EXIT_FAILED)
        path.mkdir(parents=True, exist_ok=True)
        docs = [version_archive_write(version=v, path=path / f"{v.model.name}-{v.label}.tar") for v in versions]
        self.emit(docs, "\n".join(f"wrote {d['model']}:{d['version']} to {d['path']}" for d in docs))

    # --- dashboard --models -----------------------------------------------------------------

    def add_dashboard_arguments(self, p) -> None:
        p.add_argument("--url", default=None, help="base URL (default http://127.0.0.1:$PORT/)")
        p.add_argument("--models", default="all", help="all, or comma-separated model names")

    def do_dashboard(self, *, url: str | None, models: str, **_) -> None:
        base = (url or f"http://127.0.0.1:{settings.PORT}/").rstrip("/")
        names = None if models.strip() == "all" else [m.strip() for m in models.split(",") if m.strip()]
        if names == []:
            raise fail("--models: give all or comma-separated model names")
        for name in names or []:
            model_get(name=name, field="models")
        summary = overview_summary()
        shown = [m for m in summary["models"] if names is None or m["name"] in names]
        pages = {m["name"]: base + reverse("model-page", args=[m["name"]]) for m in shown}
        doc = {
            "url": base + "/",
            "models": shown,
            "pages": pages,
            "alerts": summary["alerts"],
            "trainings": summary["trainings"],
        }
        lines = [f"Overview: {base}/"]
        for m in shown:
            lines.append(
                f"  {m['name']} {m['version']}: {pages[m['name']]}  accuracy {_fmt(m['accuracy'])}, "
                f"estimated {_fmt(m['estimated_accuracy'])}, drift {_fmt(m['drift_score'])}"
            )
        lines.append(f"  firing alerts: {len(summary['alerts'])}; running trainings: {len(summary['trainings'])}")
        self.emit(doc, "\n".join(lines))

    # --- deploy -----------------------------------------------------------------------------

    def add_deploy_arguments(self, p) -> None:
        p.add_argument("--production", action="store_true", required=True, help="the production gate (required)")
        which = p.add_mutually_exclusive_group()
        which.add_argument("--model", action="append", help="name (its newest version) or name:vN; repeatable")
        which.add_argument("--all", action="store_true", help="every model's newest version")
        p.add_argument("--threshold", type=_unit("--threshold"), help="default: each classifier's pattern target")
        p.add_argument("--rollout", type=int, help="start an A/B rollout at this percent (1-99) instead of activating")
        p.add_argument(
            "--min-robustness", type=_unit("--min-robustness"), help="also require this robustness score (0-1)"
        )
        p.add_argument("--test-data", help="score on this data set instead of each version's held-out rows")
        p.add_argument("--user", help="the username recorded in the activation history")
        p.add_argument("--reason", default="", help="why, recorded in the activation history (e.g. the CI run)")

    def do_deploy(self, *, model, all: bool, threshold, rollout, min_robustness, test_data, user, reason, **_) -> None:
        if rollout is not None and not 1 <= rollout <= 99:
            raise fail(f"--rollout must be a whole percentage between 1 and 99, got {rollout}")
        refs = None if all else (model or [default_model(self)])
        result = deployment.deploy_production(
            refs=refs,
            threshold=threshold,
            rollout=rollout,
            min_robustness=min_robustness,
            test_data=test_data,
            user=self._acting_user(user),
            reason=reason or _ci_reason(),
        )
        text = (
            _table(result["rows"])
            + "\n"
            + (
                "\n".join(f"{r['model']}:{r['version']}: {r['action']}" for r in result["rows"])
                if result["deployed"]
                else "not deployed: nothing was changed"
            )
        )
        self.emit(result, text)
        if not result["deployed"]:
            failed = [f"{r['model']}:{r['version']}" for r in result["rows"] if not r["passed"]]
            raise fail(f"deploy refused: {', '.join(failed)} below the gate; nothing was changed", EXIT_FAILED)

    # --- robustness -------------------------------------------------------------------------

    def add_robustness_arguments(self, p) -> None:
        p.add_argument("--model", help="name or name:vN (default: the only, or most recently trained, model)")
        p.add_argument("--data", help="a data set to perturb instead of the version's held-out rows")
        p.add_argument("--seed", type=int, default=0)

    def do_robustness(self, *, model, data, seed: int, **_) -> None:
        version = reports.resolve(model or default_model(self))
        report = version_robustness_run(version=version, data=data, seed=seed)
        self.emit(report, robustness_text(report))


def _unit(flag: str):
    """argparse type: a number in [0, 1], else one line naming ``flag`` and exit 2."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not 0 <= value <= 1:
            raise fail(f"{flag} must be a number between 0 and 1, got {text!r}")
        return value

    return parse


def _ci_reason() -> str:
    """In GitHub Actions, the run that deployed (recorded as the why)."""
    run = os.environ.get("GITHUB_RUN_ID")
    return (
        f"CI run {os.environ.get('GITHUB_REPOSITORY', '')}#{run} ({os.environ.get('GITHUB_SHA', '')[:12]})"
        if run
        else ""
    )


def _table(rows: list[dict]) -> str:
    header = ["model", "version", "metric", "score", "threshold", "robustness", "result"]
    body = [
        [
            r["model"],
            r["version"],
            r["metric"] or "-",
            _fmt(r["score"]),
            _fmt(r["threshold"]),
            _fmt(r.get("robustness")),
            "PASS" if r["passed"] else ("FAIL: " + r["error"] if r.get("error") else "FAIL"),
        ]
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
    return "\n".join("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in [header, *body])


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.4f}"
