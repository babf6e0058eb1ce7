from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from neural.registry.models import ActivationEvent, ModelVersion


def run(*args):
    out = io.StringIO()
    call_command(*args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_neural_activate_status_and_rollout(model, admin_user):
    assert run("neural", "activate", "--model", "coord-model", "--version", "v3", "--user", admin_user.username) == {
        "model": "coord-model",
        "active_version": "v3",
    }
    event = ActivationEvent.objects.filter(model=model).latest("pk")
    assert (event.from_version, event.to_version, event.user) == (1, 3, admin_user)
    status = run("neural", "status", "--all")
    entry = next(m for m in status if m["name"] == "coord-model")
    assert entry["active_version"] == "v3" and [v["version"] for v in entry["versions"]] == ["v3", "v2", "v1"]
    assert all({"version", "active", "metrics", "created_at"} <= set(v) for v in entry["versions"])
    split = run("neural", "rollout", "--model", "coord-model", "--version", "v2", "--weight", "25")
    assert split == {"model": "coord-model", "active_version": "v3", "candidate": "v2", "weight": 25}
    promoted = run("neural", "rollout", "--model", "coord-model", "--promote")
    assert promoted["active_version"] == "v2" and promoted["candidate"] is None


def test_neural_activate_refuses_bad_input_with_exit_2(model):
    for args, words in [
        (("--model", "ghost", "--version", "v1"), "does not exist"),
        (("--model", "coord-model", "--version", "latest"), "not a version"),
        (("--model", "coord-model", "--version", "v9"), "no version v9"),
        (("--model", "coord-model", "--version", "v1"), "already active"),
    ]:
        with pytest.raises(CommandError) as err:
            call_command("neural", "activate", *args)
        assert err.value.returncode == 2 and words in str(err.value)
    assert ModelVersion.objects.get(model=model, is_active=True).version == 1


def test_neural_delete_needs_force(model):
    with pytest.raises(CommandError) as err:
        call_command("neural", "delete", "--model", "coord-model")
    assert "force" in str(err.value)
    assert run("neural", "delete", "--model", "coord-model", "--force") == {"model": "coord-model", "deleted": True}
