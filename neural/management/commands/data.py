"""`python manage.py data ...`: import and list data sets."""

from __future__ import annotations

from pathlib import Path

from neural.datasets.models import Pattern
from neural.datasets.selectors import dataset_list
from neural.datasets.services import dataset_import
from neural.management.base import SubcommandCommand, fail


class Command(SubcommandCommand):
    help = "Data sets: import, list."
    subcommands = {
        "import": "Import a CSV file as a new data set version.",
        "list": "List stored data sets.",
    }

    def add_import_arguments(self, p) -> None:
        p.add_argument("--name", required=True)
        p.add_argument("--file", required=True, type=Path)
        p.add_argument("--target", required=True, help="the column to predict")
        p.add_argument("--pattern", default=Pattern.PREDICTION, help=", ".join(Pattern.values))
        p.add_argument("--format", default="csv", choices=["csv"])

    def do_import(self, *, name, file: Path, target, pattern, **_) -> None:
        if not file.is_file():
            raise fail(f"--file: {file} does not exist or is not a file")
        ds = dataset_import(name=name, path=file, target=target, pattern=pattern, source_format="csv")
        self.emit(
            {
                "name": ds.name,
                "version": ds.version,
                "rows": ds.rows,
                "columns": ds.columns,
                "target": ds.target,
                "task": ds.task,
                "pattern": ds.pattern,
                "sha256": ds.sha256,
            },
            f"imported {ds} ({ds.rows} rows, {len(ds.columns)} columns, target {ds.target}, task {ds.task})",
        )

    def do_list(self, **_) -> None:
        rows = [
            {
                "name": d.name,
                "version": d.version,
                "rows": d.rows,
                "target": d.target,
                "task": d.task,
                "pattern": d.pattern,
                "sha256": d.sha256,
            }
            for d in dataset_list()
        ]
        self.emit(
            rows,
            "\n".join(f"{r['name']}:v{r['version']}  {r['rows']} rows  target={r['target']}  {r['task']}" for r in rows)
            or "no data sets",
        )
