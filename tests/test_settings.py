"""Settings: every one read from the environment in settings/base.py and listed in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from photondrift.settings.env import env_float

ROOT = Path(__file__).resolve().parent.parent


def test_every_environment_setting_is_in_the_readme_table():
    base = (ROOT / "photondrift" / "settings" / "base.py").read_text()
    read = set(re.findall(r'env_\w+\("([A-Z0-9_]+)"', base))
    table = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", (ROOT / "README.md").read_text(), flags=re.M))
    assert read and read == table


def test_no_module_reads_a_setting_with_a_default_of_its_own():
    found = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for package in ("neural", "dashboard", "photondrift")
        for path in (ROOT / package).rglob("*.py")
        for line in path.read_text().splitlines()
        if "getattr(settings," in line
    ]
    assert not found, "declare these in settings/base.py:\n" + "\n".join(found)


def test_env_float_reads_numbers_and_names_a_bad_one(monkeypatch):
    monkeypatch.setenv("X_S", "2.5")
    assert env_float("X_S", 1.0) == 2.5
    monkeypatch.setenv("X_S", "")
    assert env_float("X_S", 1.0) == 1.0
    for bad in ("soon", "nan", "-1"):
        monkeypatch.setenv("X_S", bad)
        with pytest.raises(ImproperlyConfigured, match="X_S"):
            env_float("X_S", 1.0, minimum=0)
