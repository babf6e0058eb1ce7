"""`neural status | activate | predict`: the registry's and serving's commands."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from neural.management.base import fail
from neural.registry.selectors import model_get, model_list
from neural.registry.services import model_version_activate
from neural.registry.serving import predict


class RegistryCommands:
    """Mixed into the `neural` command; see SubcommandCommand."""

    registry_subcommands = {
        "status": "List models and their versions.",
        "activate": "Make a version the active one.",
        "predict": "Predict with a model's active version (or name:vN).",
    }

    def add_status_arguments(self, p) -> None:
        p.add_argument("--all", action="store_true", help="every version, not only the active one")

    def do_status(self, *, all: bool, **_) -> None:
        rows = []
        for m in model_list():
            versions = [
                {"version": v.label, "active": v.is_active, "metrics": v.metrics, "created_at": v.created_at}
                for v in m.versions.all()
                if all or v.is_active
            ]
            active = next((v["version"] for v in versions if v["active"]), None)
            rows.append({"name": m.name, "pattern": m.pattern, "active_version": active, "versions": versions})
        self.emit(
            rows,
            "\n".join(
                f"{r['name']} ({r['pattern']}): active {r['active_version']}, {len(r['versions'])} version(s) shown"
                for r in rows
            )
            or "no models",
        )

    def add_activate_arguments(self, p) -> None:
        p.add_argument("--model", required=True)
        p.add_argument("--version", required=True, help="v3 or 3")

    def do_activate(self, *, model: str, version: str, **_) -> None:
        number = version.lstrip("v")
        if not number.isdigit():
            raise fail(f"--version: {version!r} is not a version like v3")
        registered = model_get(name=model)
        target = registered.versions.filter(version=int(number)).first()
        if target is None:
            raise fail(f"--version: model {model!r} has no version v{number}")
        model_version_activate(version=target)
        self.emit({"model": model, "active_version": target.label}, f"{model}: {target.label} is now active")

    def add_predict_arguments(self, p) -> None:
        p.add_argument("--model", required=True, help="name or name:vN")
        src = p.add_mutually_exclusive_group(required=True)
        src.add_argument("--input", help="one JSON object, or a JSON array of objects")
        src.add_argument("--file", type=Path, help="CSV file with one row per input")

    def do_predict(self, *, model: str, input: str | None, file: Path | None, **_) -> None:
        records = _records(input, file)
        version, results = predict(model_ref=model, records=records)
        lines = [f"{r['prediction']}" + (f"  {r['probabilities']}" if "probabilities" in r else "") for r in results]
        self.emit({"model": version.model.name, "version": version.label, "predictions": results}, "\n".join(lines))


def _records(raw: str | None, file: Path | None) -> list[dict]:
    if file is not None:
        if not file.is_file():
            raise fail(f"--file: {file} does not exist")
        try:
            return json.loads(pd.read_csv(file).to_json(orient="records"))
        except (ValueError, pd.errors.ParserError) as exc:
            raise fail(f"--file: not a readable CSV ({exc})") from exc
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise fail(f"--input: not valid JSON ({exc.msg} at column {exc.colno})") from exc
    records = parsed if isinstance(parsed, list) else [parsed]
    if not all(isinstance(r, dict) for r in records):
        raise fail("--input: expected a JSON object or an array of objects")
    return records
