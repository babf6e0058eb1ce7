"""Production settings from the environment: `check --deploy` clean, HTTPS on by default, a
Content-Security-Policy on every page, the API schema for signed-in callers only."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The production environment as README.md and docs/security.md document it.
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "photondrift.settings",
    "DJANGO_SECRET_KEY": "kq3-8z!x0pE_7dQm2vR9sT4wY6uA1bC5fG8hJ0kL3nP7qS2tV5xZ9",
    "DJANGO_ALLOWED_HOSTS": "neural.example.com",
    "DATABASE_URL": "postgres://photondrift@127.0.0.1:5432/photondrift",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def _manage(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PHOTONDRIFT_", "DATABASE", "REDIS"))}
    env = {**keep, **PRODUCTION_ENV, "PHOTONDRIFT_HOME": str(tmp_path), **extra}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path):
    out = _manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert out.returncode == 0, out.stderr + out.stdout
    assert "no issues" in out.stdout


def test_plain_http_turned_on_by_hand_is_what_check_deploy_warns_about(tmp_path):
    out = _manage(tmp_path, "check", "--deploy", DJANGO_HTTPS="false")
    for code in ("W004", "W008", "W012", "W016"):
        assert code in out.stderr, out.stderr


def test_pages_carry_a_content_security_policy_with_a_nonce_for_inline_scripts(admin_client, trained):
    res = admin_client.get(f"/sessions/{trained.pk}/")
    assert res.status_code == 200
    policy = res["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", res.content.decode())
    assert inline and all(f'nonce="{nonce}"' in attrs or "application/json" in attrs for attrs in inline)


@pytest.mark.parametrize("url", ["/api/v1/schema/", "/api/v1/docs/"])
def test_the_api_schema_and_its_docs_need_a_sign_in(client, db, url):
    assert client.get(url).status_code in (401, 403)


def test_the_api_docs_page_has_no_inline_script(admin_client):
    res = admin_client.get("/api/v1/docs/")
    assert res.status_code == 200
    assert not re.findall(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", res.content.decode())
