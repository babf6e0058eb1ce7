"""GET /healthz tells anonymous callers ok or not per part, and staff the details."""

from __future__ import annotations

import pytest

from photondrift import health


@pytest.fixture
def broken_broker(monkeypatch):
    def refuse():
        raise ConnectionError("Error 111 connecting to 10.0.0.5:6379. Connection refused.")

    monkeypatch.setattr(health, "_broker", refuse)


def test_an_anonymous_caller_learns_only_ok_or_not(client, db, broken_broker):
    res = client.get("/healthz")
    assert res.status_code == 503
    body = res.json()
    assert body["checks"] == {"database": {"ok": True}, "broker": {"ok": False}, "channel_layer": {"ok": True}}
    assert "10.0.0.5" not in res.content.decode()


def test_staff_see_the_driver_and_the_error(admin_client, broken_broker):
    body = admin_client.get("/healthz").json()
    assert "10.0.0.5:6379" in body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["detail"]


def test_a_staff_token_sees_the_details_and_an_operator_token_does_not(client, db, broken_broker):
    from tests.factories import UserFactory, api_token

    staff = api_token(UserFactory(username="ops-staff", is_staff=True))
    body = client.get("/healthz", HTTP_AUTHORIZATION=f"Token {staff}").json()
    assert "10.0.0.5:6379" in body["checks"]["broker"]["error"]
    operator = api_token(UserFactory(username="ops"))
    body = client.get("/healthz", HTTP_AUTHORIZATION=f"Token {operator}").json()
    assert body["checks"]["broker"] == {"ok": False}
    assert client.get("/healthz", HTTP_AUTHORIZATION="Token wrong").json()["checks"]["broker"] == {"ok": False}
