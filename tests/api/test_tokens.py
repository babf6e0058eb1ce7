"""API tokens: the database keeps digests only; `neural token` makes one; old DRF keys carry over."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from knox.models import AuthToken

from tests.factories import UserFactory


def _models(client, key: str) -> int:
    return client.get("/api/v1/neural/models", HTTP_AUTHORIZATION=f"Token {key}").status_code


def test_it_stores_no_key_and_the_printed_key_works(client, db):
    UserFactory(username="ci")
    out = io.StringIO()
    call_command("neural", "token", "--user", "ci", "--json", stdout=out)
    key = json.loads(out.getvalue())["token"]
    (row,) = AuthToken.objects.values_list("digest", "token_key", "expiry")
    assert key not in row[0] and len(row[1]) < len(key) / 2 and row[2] is None
    assert _models(client, key) == 200
    assert _models(client, key[:-1] + ("0" if key[-1] != "0" else "1")) == 401


def test_a_revoked_or_expired_token_is_refused(client, db):
    user = UserFactory(username="ci")
    call_command("neural", "token", "--user", "ci", "--revoke", stdout=io.StringIO())  # none yet: fine
    out = io.StringIO()
    call_command("neural", "token", "--user", "ci", stdout=out)
    key = out.getvalue().strip()
    assert _models(client, key) == 200
    call_command("neural", "token", "--user", "ci", "--revoke", stdout=io.StringIO())
    assert _models(client, key) == 401
    _, expired = AuthToken.objects.create(user=user, expiry=-timedelta(seconds=1))
    assert _models(client, expired) == 401


def test_an_unknown_user_is_one_line_and_exit_2(db):
    with pytest.raises(CommandError) as caught:
        call_command("neural", "token", "--user", "nobody")
    assert caught.value.returncode == 2 and "nobody" in str(caught.value)


def test_the_migration_moves_plain_keys_to_digests_and_drops_their_table(client, db):
    user = UserFactory(username="old-client")
    key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id integer, created timestamp)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, '2026-01-01 00:00:00')", [key, user.pk])
    migration = import_module("neural.migrations.0002_hashed_api_tokens")
    with connection.schema_editor() as editor:
        migration.move_tokens(apps, editor)
    assert "authtoken_token" not in connection.introspection.table_names()
    assert not AuthToken.objects.filter(digest__contains=key).exists()
    assert _models(client, key) == 200
