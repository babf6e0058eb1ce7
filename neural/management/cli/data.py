"""`data quality-check | analyze | prepare | augment | split | generate | schema`."""

from __future__ import annotations

import json

from neural.datasets import versions
from neural.datasets.generator import GENERATORS
from neural.datasets.quality import quality_report
from neural.datasets.services import dataset_load_frame, dataset_set_schema
from neural.management.base import fail
from neural.management.cli.defaults import default_dataset


class DataVersionCommands:
    """Mixed into the `data` command; see SubcommandCommand. Needs ``self.dataset(ref)``."""

    data_subcommands = {
        "quality-check": "Print the quality report of a data set version.",
        "analyze": "Describe a data set version (--quality-report adds the full report).",
        "prepare": "Clean and validate a version into a new version (--clean --validate).",
        "augment": "Oversample minority classes (SMOTE-style) into a new version.",
        "split": "Assign train / validation rows (stored in a new version).",
        "generate": "Generate a realistic synthetic data set for a pattern.",
        "schema": "Override the kind of a column, or exclude / include it.",
    }

    def add_quality_check_arguments(self, p) -> None:
        p.add_argument("--dataset", required=True, help="name, name:vN or id")
        p.add_argument("--refresh", action="store_true", help="recompute instead of showing the stored report")

    def do_quality_check(self, *, dataset: str, refresh: bool = False, **_) -> None:
        ds = self.dataset(dataset)
        report = ds.quality
        if refresh or not report:
            report = quality_report(dataset_load_frame(ds), target=ds.target, schema=ds.schema)
        self.emit({"dataset": ds.label, **report}, _quality_text(ds.label, report))

    def add_analyze_arguments(self, p) -> None:
        p.add_argument("--dataset", required=True, help="name, name:vN or id")
        p.add_argument("--quality-report", action="store_true", help="include the full quality report")

    def do_analyze(self, *, dataset: str, quality_report: bool, **_) -> None:
        ds = self.dataset(dataset)
        doc = {
            "dataset": ds.label,
            "rows": ds.rows,
            "target": ds.target,
            "task": ds.task,
            "pattern": ds.pattern,
            "sha256": ds.sha256,
            "parent": ds.parent.label if ds.parent else None,
            "operation": ds.operation,
            "schema": ds.schema,
        }
        lines = [f"{ds.label}: {ds.rows} rows, target {ds.target} ({ds.task}), sha256 {ds.sha256[:12]}"]
        lines += [
            f"  {c['name']:<28} {c['kind']:<12} {'excluded: ' + c['reason'] if c['excluded'] else ''}"
            for c in ds.schema
        ]
        if quality_report:
            doc["quality"] = ds.quality or {}
            lines.append(_quality_text(ds.label, ds.quality or {}))
        self.emit(doc, "\n".join(lines))

    def add_prepare_arguments(self, p) -> None:
        p.add_argument("--source", required=True, help="name, name:vN or id")
        p.add_argument("--clean", action="store_true", help="drop duplicate and empty rows, impute or drop missing")
        p.add_argument("--validate", action="store_true", help="refuse a result with problems that break training")
        p.add_argument("--impute", choices=["median", "drop"], default="median", help="missing values rule")
        p.add_argument("--redact-pii", action="store_true", help="replace PII and secrets found with placeholders")
        p.add_argument("--name", help="store under this name (default: the source's name)")

    def do_prepare(self, *, source, clean, validate, impute, redact_pii, name, **_) -> None:
        ds = versions.dataset_prepare(
            source=self.dataset(source), clean=clean, validate=validate, impute=impute, redact_pii=redact_pii, name=name
        )
        self._emit_version(ds)

    def add_augment_arguments(self, p) -> None:
        p.add_argument("--dataset", required=True, help="name, name:vN or id")
        p.add_argument("--factor", type=float, default=2.0, help="minority classes grow by this factor (> 1)")
        p.add_argument("--seed", type=int, default=0)

    def do_augment(self, *, dataset, factor, seed, **_) -> None:
        self._emit_version(versions.dataset_augment(dataset=self.dataset(dataset), factor=factor, seed=seed))

    def add_split_arguments(self, p) -> None:
        p.add_argument("--dataset", help="name, name:vN or id (default: the only, or most recent, data set)")
        p.add_argument("--validation-ratio", type=float, default=0.2)
        p.add_argument("--stratify", action="store_true", help="keep class shares equal in both parts")
        p.add_argument("--time-column", help="validation rows are the latest by this column")
        p.add_argument("--seed", type=int, default=0)

    def do_split(self, *, dataset, validation_ratio, stratify, time_column, seed, **_) -> None:
        ds = versions.dataset_split(
            dataset=self.dataset(dataset or default_dataset(self, flag="--dataset")),
            validation_ratio=validation_ratio,
            stratify=stratify,
            time_column=time_column,
            seed=seed,
        )
        self._emit_version(ds)

    def add_generate_arguments(self, p) -> None:
        p.add_argument("--pattern", required=True, choices=sorted(GENERATORS))
        p.add_argument("--rows", type=int, required=True)
        p.add_argument("--name", required=True)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--drift", action="store_true", help="the second half of the rows comes from a shifted world")

    def do_generate(self, *, pattern, rows, name, seed, drift, **_) -> None:
        if rows > 5_000_000:
            raise fail("--rows: at most 5,000,000")
        ds = versions.dataset_generate(pattern=pattern, rows=rows, name=name, seed=seed, drift=drift)
        self._emit_version(ds, extra={"noise_ceiling": ds.operation.get("params", {}).get("noise_ceiling")})

    def add_schema_arguments(self, p) -> None:
        p.add_argument("--dataset", required=True, help="name, name:vN or id")
        p.add_argument("--column", required=True)
        p.add_argument("--kind", help="numeric, categorical, boolean, datetime, text, tags")
        group = p.add_mutually_exclusive_group()
        group.add_argument("--exclude", action="store_true")
        group.add_argument("--include", action="store_true")

    def do_schema(self, *, dataset, column, kind, exclude, include, **_) -> None:
        change = {}
        if kind:
            change["kind"] = kind
        if exclude or include:
            change["excluded"] = bool(exclude)
        if not change:
            raise fail("give --kind, --exclude or --include")
        ds = dataset_set_schema(dataset=self.dataset(dataset), overrides={column: change})
        spec = next(c for c in ds.schema if c["name"] == column)
        self.emit(
            {"dataset": ds.label, "column": spec},
            f"{ds.label}: {column} is {spec['kind']}"
            + (f", excluded ({spec['reason']})" if spec["excluded"] else ", included"),
        )

    def _emit_version(self, ds, extra: dict | None = None) -> None:
        doc = {
            "name": ds.name,
            "version": ds.version,
            "rows": ds.rows,
            "target": ds.target,
            "task": ds.task,
            "pattern": ds.pattern,
            "sha256": ds.sha256,
            "parent": ds.parent.label if ds.parent else None,
            "operation": ds.operation,
            **(extra or {}),
        }
        parent = f" from {ds.parent.label}" if ds.parent else ""
        self.emit(doc, f"stored {ds.label}{parent}: {ds.rows} rows, {json.dumps(ds.operation.get('summary', {}))}")


def _quality_text(label: str, report: dict) -> str:
    lines = [f"{label}: {report.get('rows')} rows x {report.get('columns')} columns"]
    dup = report.get("duplicates", {})
    lines.append(f"  duplicate rows: {dup.get('count', 0)} ({dup.get('share', 0):.1%})")
    missing = {k: v for k, v in report.get("missing", {}).items() if v > 0}
    if missing:
        lines.append(
            "  missing: " + ", ".join(f"{k} {v:.1%}" for k, v in sorted(missing.items(), key=lambda kv: -kv[1]))
        )
    if report.get("class_balance"):
        lines.append("  classes: " + ", ".join(f"{k} {v['share']:.1%}" for k, v in report["class_balance"].items()))
    for col, o in report.get("outliers", {}).items():
        lines.append(f"  outliers in {col}: {o['count']} (robust z > {o['threshold']})")
    for p in report.get("pii", []):
        lines.append(f"  PII/secret in {p['column']}: {p['kind']} x{p['count']}")
    for w in report.get("warnings", []):
        lines.append(f"  warning [{w['kind']}] {w['column']}: {w['message']}")
    return "\n".join(lines)
