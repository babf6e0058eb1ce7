import pytest
import yaml


@pytest.mark.parametrize("url", ["/api/v1/neural/models", "/api/v1/neural/train", "/api/v1/neural/datasets"])
def test_anonymous_callers_are_refused(client, db, url):
    res = client.get(url)
    assert res.status_code in (401, 403)
    assert "error" in res.json()


def test_pages_redirect_anonymous_users_to_login(client, db):
    res = client.get("/")
    assert res.status_code == 302 and res["Location"].startswith("/login/")
    assert client.get("/login/").status_code == 200


def test_healthz_reports_each_part(client, db):
    res = client.get("/healthz")
    body = res.json()
    assert set(body["checks"]) == {"database", "broker", "channel_layer"}
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["channel_layer"]["ok"] is True


def test_the_openapi_schema_is_served(admin_client):
    res = admin_client.get("/api/v1/schema/")
    assert res.status_code == 200 and b"/api/v1/neural/train" in res.content


def test_the_openapi_schema_describes_every_response_without_a_warning(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(out), "--validate", "--fail-on-warn")
    schema = yaml.safe_load(out.read_text())
    predict = schema["paths"]["/api/v1/neural/predict"]["post"]
    assert "prediction_id" in yaml.safe_dump(schema["components"]["schemas"]["PredictResponse"])
    assert "200" in predict["responses"] and {"cachedTokenAuth": []} in predict["security"]
