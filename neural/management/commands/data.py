"""`python manage.py data ...`: import, judge, version and generate data sets (thin: parse, call, print)."""

from __future__ import annotations

from pathlib import Path

from neural.datasets.importers import REGISTRY
from neural.datasets.models import Pattern
from neural.datasets.selectors import dataset_get, dataset_list
from neural.datasets.services import dataset_import
from neural.management.base import SubcommandCommand, fail
from neural.management.cli.data import DataVersionCommands


def summary(ds) -> dict:
    return {
        "name": ds.name,
        "version": ds.version,
        "rows": ds.rows,
        "target": ds.target,
        "task": ds.task,
        "pattern": ds.pattern,
        "sha256": ds.sha256,
    }


class Command(DataVersionCommands, SubcommandCommand):
    help = "Data sets: import, list, quality-check, analyze, prepare, augment, split, generate, schema."
    subcommands = {
        "import": "Import a file (any registered format, detected when --format is absent) as a new data set version.",
        "list": "List stored data sets.",
        "formats": "List the file formats that import reads.",
        **DataVersionCommands.data_subcommands,
    }

    def add_import_arguments(self, p) -> None:
        p.add_argument("--name", required=True)
        p.add_argument("--file", required=True, type=Path)
        p.add_argument("--target", help="the column to predict (default: the format's natural target)")
        p.add_argument("--pattern", default=Pattern.PREDICTION, help=", ".join(Pattern.values))
        p.add_argument("--format", dest="fmt", choices=sorted(REGISTRY), help="default: detected from the file")

    def do_import(self, *, name, file: Path, target, pattern, fmt, **_) -> None:
        if not file.is_file():
            raise fail(f"--file: {file} does not exist or is not a file")
        ds = dataset_import(name=name, path=file, target=target, pattern=pattern, fmt=fmt)
        self.emit(
            {**summary(ds), "columns": ds.columns, "format": ds.source_format},
            f"imported {ds} from {ds.source_format} ({ds.rows} rows, {len(ds.columns)} columns, "
            f"target {ds.target}, task {ds.task})",
        )

    def do_list(self, **_) -> None:
        rows = [summary(d) for d in dataset_list()]
        self.emit(
            rows,
            "\n".join(f"{r['name']}:v{r['version']}  {r['rows']} rows  target={r['target']}  {r['task']}" for r in rows)
            or "no data sets",
        )

    def do_formats(self, **_) -> None:
        rows = [
            {"format": name, "description": cls.description, "default_target": cls.default_target}
            for name, cls in sorted(REGISTRY.items())
        ]
        self.emit(rows, "\n".join(f"{r['format']:<24} {r['description']}" for r in rows))

    def dataset(self, ref: str):
        """``--dataset`` as a name, name:vN or numeric id."""
        if ref.isdigit():
            found = dataset_list().filter(pk=int(ref)).first()
            if found is not None:
                return found
        return dataset_get(ref=ref)
