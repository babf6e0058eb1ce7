"""`neural status | activate | rollout | predict | save | load | export | delete | ensemble`: the
registry's and serving's commands."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from django.contrib.auth import get_user_model

from neural.engine.export import export_onnx
from neural.management.base import fail
from neural.registry.ensembles import ensemble_create, ensemble_members_resolve, ensemble_report, side_by_side
from neural.registry.selectors import model_get, model_list, model_version_resolve
from neural.registry.services import (
    model_delete,
    model_rollout_abort,
    model_rollout_promote,
    model_rollout_start,
    model_version_activate,
)
from neural.registry.storage import version_archive_import, version_archive_write, version_load
from neural.serving.logwriter import log_writer
from neural.serving.services import predict


class RegistryCommands:
    """Mixed into the `neural` command; see SubcommandCommand."""

    registry_subcommands = {
        "status": "List models and their versions.",
        "activate": "Make a version the active one (recorded as a rollback when it is older).",
        "rollout": "Split traffic between the active version and a candidate; promote or roll back.",
        "predict": "Predict with a model's active version (or name:vN).",
        "save": "Write one model version to a portable archive (tar with checksums and a manifest).",
        "load": "Import a model archive after verifying every checksum and the format version.",
        "export": "Export a model version to ONNX.",
        "delete": "Delete a model and its versions (refused with an active version unless --force).",
        "ensemble": "Combine trained models (pinned versions) into one servable ensemble version.",
    }

    def _acting_user(self, username: str | None):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise fail(f"--user: no user {username!r}")
        return user

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
            active = next((v.label for v in m.versions.all() if v.is_active), None)
            candidate = next((v.label for v in m.versions.all() if v.pk == m.candidate_id), None)
            rows.append(
                {
                    "name": m.name,
                    "pattern": m.pattern,
                    "active_version": active,
                    "rollout": {"candidate": candidate, "weight": m.candidate_weight} if candidate else None,
                    "versions": versions,
                }
            )
        self.emit(
            rows,
            "\n".join(
                f"{r['name']} ({r['pattern']}): active {r['active_version']}, {len(r['versions'])} version(s) shown"
                + (f", {r['rollout']['weight']}% to {r['rollout']['candidate']}" if r["rollout"] else "")
                for r in rows
            )
            or "no models",
        )

    def add_activate_arguments(self, p) -> None:
        p.add_argument("--model", required=True)
        p.add_argument("--version", required=True, help="v3 or 3")
        p.add_argument("--user", help="the username recorded in the activation history")

    def _version(self, model: str, version: str):
        number = version.lstrip("v")
        if not number.isdigit():
            raise fail(f"--version: {version!r} is not a version like v3")
        registered = model_get(name=model)
        target = registered.versions.filter(version=int(number)).first()
        if target is None:
            raise fail(f"--version: model {model!r} has no version v{number}")
        return registered, target

    def do_activate(self, *, model: str, version: str, user: str | None, **_) -> None:
        _, target = self._version(model, version)
        model_version_activate(version=target, user=self._acting_user(user))
        self.emit({"model": model, "active_version": target.label}, f"{model}: {target.label} is now active")

    def add_rollout_arguments(self, p) -> None:
        p.add_argument("--model", required=True)
        action = p.add_mutually_exclusive_group(required=True)
        action.add_argument("--version", help="the candidate version (with --weight)")
        action.add_argument("--promote", action="store_true", help="make the candidate the active version")
        action.add_argument("--abort", action="store_true", help="roll back: all traffic to the active version")
        p.add_argument("--weight", type=int, help="percent of traffic for the candidate, 1-99")
        p.add_argument("--user", help="the username recorded in the activation history")

    def do_rollout(self, *, model: str, version, promote, abort, weight, user, **_) -> None:
        who = self._acting_user(user)
        if promote:
            registered = model_rollout_promote(model=model_get(name=model), user=who)
        elif abort:
            registered = model_rollout_abort(model=model_get(name=model), user=who)
        else:
            if weight is None:
                raise fail("--weight is required with --version (1-99)")
            registered, target = self._version(model, version)
            registered = model_rollout_start(model=registered, version=target, weight=weight, user=who)
        active = registered.active_version()
        doc = {
            "model": model,
            "active_version": active.label if active else None,
            "candidate": registered.candidate.label if registered.candidate else None,
            "weight": registered.candidate_weight,
        }
        text = f"{model}: active {doc['active_version']}" + (
            f", {doc['weight']}% to {doc['candidate']}" if doc["candidate"] else ", no rollout"
        )
        self.emit(doc, text)

    def add_predict_arguments(self, p) -> None:
        p.add_argument("--model", required=True, help="name or name:vN")
        src = p.add_mutually_exclusive_group(required=True)
        src.add_argument("--input", help="one JSON object, or a JSON array of objects")
        src.add_argument("--file", type=Path, help="CSV file with one row per input")
        p.add_argument("--caller", help="sticky A/B key during a rollout")

    def do_predict(self, *, model: str, input: str | None, file: Path | None, caller: str | None, **_) -> None:
        records = _records(input, file)
        version, results = predict(model_ref=model, records=records, caller=caller)
        log_writer.flush()
        lines = [f"{r['prediction']}" + (f"  {r['probabilities']}" if "probabilities" in r else "") for r in results]
        self.emit({"model": version.model.name, "version": version.label, "predictions": results}, "\n".join(lines))

    def add_save_arguments(self, p) -> None:
        p.add_argument("--model", required=True, help="name (its active version) or name:vN")
        p.add_argument("--path", required=True, type=Path, help="the archive file to write")

    def do_save(self, *, model: str, path: Path, **_) -> None:
        version = model_version_resolve(ref=model)
        doc = version_archive_write(version=version, path=path)
        self.emit(doc, f"wrote {doc['model']}:{doc['version']} to {path} (sha256 {doc['sha256'][:12]})")

    def add_load_arguments(self, p) -> None:
        p.add_argument("--path", required=True, type=Path, help="an archive written by `neural save`")
        p.add_argument("--name", help="import under this model name (default: the name in the archive)")
        p.add_argument("--user", help="the username recorded in the activation history")

    def do_load(self, *, path: Path, name: str | None, user: str | None, **_) -> None:
        version = version_archive_import(path=path, name=name, user=self._acting_user(user))
        doc = {"model": version.model.name, "version": version.label, "active": version.is_active}
        self.emit(doc, f"imported {path} as {doc['model']}:{doc['version']}" + (" (active)" if doc["active"] else ""))

    def add_export_arguments(self, p) -> None:
        p.add_argument("--model", required=True, help="name (its active version) or name:vN")
        p.add_argument("--format", default="onnx", choices=["onnx"])
        p.add_argument("--path", required=True, type=Path, help="the .onnx file to write")

    def do_export(self, *, model: str, format: str, path: Path, **_) -> None:
        version = model_version_resolve(ref=model)
        info = export_onnx(version_load(version=version), path)
        doc = {"model": version.model.name, "version": version.label, "format": format, "path": str(path), **info}
        self.emit(doc, f"exported {doc['model']}:{doc['version']} to {path} (inputs x_num, x_cat)")

    def add_delete_arguments(self, p) -> None:
        p.add_argument("--model", required=True)
        p.add_argument("--force", action="store_true", help="delete even though a version is active")
        p.add_argument("--user", help="the username recorded in the activation history")

    def do_delete(self, *, model: str, force: bool, user: str | None, **_) -> None:
        model_delete(model=model_get(name=model), user=self._acting_user(user), force=force)
        self.emit({"model": model, "deleted": True}, f"deleted {model}")

    def add_ensemble_arguments(self, p) -> None:
        p.add_argument("--models", required=True, help="comma-separated members: A,B:v2,C (name: its active version)")
        p.add_argument("--method", required=True, choices=["voting", "stacking", "weighted"])
        p.add_argument(
            "--weights", default="auto", help="auto (fitted on validation rows) or w1,w2,... (method weighted)"
        )
        p.add_argument("--name", help="the ensemble's model name (default: <first member>-ensemble)")
        p.add_argument("--user", help="the username recorded in the activation history")

    def do_ensemble(self, *, models: str, method: str, weights: str, name: str | None, user: str | None, **_) -> None:
        members = ensemble_members_resolve(refs=[r.strip() for r in models.split(",")])
        version = ensemble_create(
            user=self._acting_user(user),
            name=name or f"{members[0].model.name}-ensemble",
            members=members,
            method=method,
            weights=_weights(weights),
        )
        report = ensemble_report(version=version)
        doc = {"model": version.model.name, "version": version.label, "active": version.is_active, **report}
        self.emit(doc, ensemble_text(doc))


def ensemble_text(doc: dict) -> str:
    """The members' and the ensemble's test figures side by side."""
    head = f"created {doc['model']}:{doc['version']} ({doc['method']} of {len(doc['members'])})"
    if doc.get("weights"):
        head += " weights " + ", ".join(f"{w:.3f}" for w in doc["weights"])
    return head + "\n" + side_by_side(doc["members"], doc["ensemble_test_metrics"])


def _weights(raw: str) -> str | list[float]:
    if raw.strip().lower() == "auto":
        return "auto"
    try:
        return [float(w) for w in raw.split(",")]
    except ValueError as exc:
        raise fail(f"--weights: expected auto or comma-separated numbers, got {raw!r}") from exc


def _records(raw: str | None, file: Path | None) -> list[dict]:
    if file is not None:
        if not file.is_file():
            raise fail(f"--file: {file} does not exist")
        try:
            return json.loads(pd.read_csv(file).to_json(orient="records", date_format="iso"))
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
