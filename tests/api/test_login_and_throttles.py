"""Login lockout (django-axes), throttles on predict and on failed token checks, password rules."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from rest_framework.throttling import ScopedRateThrottle

from neural.api.auth import TokenFailureThrottle
from photondrift.embedded import ensure_admin
from tests.factories import UserFactory, api_token


def _login(client, password: str):
    return client.post("/login/", {"username": "operator", "password": password})


def test_it_locks_a_login_out_after_the_failure_limit(client, user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "wrong-password").status_code == 200  # the form again, with its error
    assert _login(client, "wrong-password").status_code == 429  # the limit: locked out
    res = _login(client, "pw-for-tests")  # the right password, too late
    assert res.status_code == 429
    assert client.get("/").status_code == 302  # not signed in


def test_a_success_before_the_limit_resets_the_count(client, user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "wrong-password")
    assert _login(client, "pw-for-tests").status_code == 302
    client.logout()
    _login(client, "wrong-password")
    assert _login(client, "pw-for-tests").status_code == 302


def test_predict_is_throttled_per_user(api, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "predict", "2/min")
    body = {"model": "no-such-model", "input": {"a": 1}}
    codes = [api.post("/api/v1/neural/predict", body, format="json").status_code for _ in range(3)]
    assert codes[:2] == [404, 404] and codes[2] == 429
    res = api.post("/api/v1/neural/predict/batch", {"model": "x", "inputs": []}, format="json")
    assert res.status_code == 429 and "throttled" in res.json()["error"].lower()
    assert api.get("/api/v1/neural/models").status_code == 200  # other endpoints are not


def test_failed_token_checks_throttle_the_address(client, db, monkeypatch):
    monkeypatch.setitem(TokenFailureThrottle.THROTTLE_RATES, "token_failure", "3/min")
    good = api_token(UserFactory(username="ci"))
    codes = [client.get("/api/v1/neural/models", HTTP_AUTHORIZATION=f"Token guess{i}").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]
    assert client.get("/api/v1/neural/models", HTTP_AUTHORIZATION=f"Token {good}").status_code == 429
    other = client.get("/api/v1/neural/models", HTTP_AUTHORIZATION=f"Token {good}", REMOTE_ADDR="10.9.8.7")
    assert other.status_code == 200


@pytest.mark.parametrize("password", ["12345678", "123456789012345", "password1234", "operations-lead1"])
def test_weak_passwords_are_refused(password):
    """Too short, all digits, common, like the username: Django's four validators."""
    with pytest.raises(ValidationError):
        password_validation.validate_password(password, get_user_model()(username="operations-lead"))


def test_a_weak_admin_password_from_the_environment_is_refused(db, monkeypatch, capsys):
    monkeypatch.setenv("PHOTONDRIFT_ADMIN_PASSWORD", "a")
    with pytest.raises(SystemExit) as caught:
        ensure_admin()
    assert caught.value.code == 2 and "PHOTONDRIFT_ADMIN_PASSWORD" in capsys.readouterr().err
    assert not get_user_model().objects.filter(username="admin").exists()
    monkeypatch.setenv("PHOTONDRIFT_ADMIN_PASSWORD", "correct horse battery staple")
    ensure_admin()
    assert get_user_model().objects.get(username="admin").is_superuser


def test_a_forged_forwarded_for_header_does_not_reset_the_token_throttle(client, db, monkeypatch):
    monkeypatch.setitem(TokenFailureThrottle.THROTTLE_RATES, "token_failure", "2/min")
    codes = [
        client.get(
            "/api/v1/neural/models", HTTP_AUTHORIZATION="Token guess", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}"
        ).status_code
        for i in range(3)
    ]
    assert codes == [401, 401, 429]
