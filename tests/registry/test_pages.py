from __future__ import annotations

from neural.registry.models import ModelVersion
from neural.registry.services import model_rollout_start


def test_the_models_list_shows_active_version_and_target(client, user, trained):
    client.force_login(user)
    page = client.get("/models/").content.decode()
    version = ModelVersion.objects.get(model__name="coord-model")
    accuracy = version.test_metrics["accuracy"]
    assert "coord-model" in page and "v1" in page and "0.70" in page
    assert f"{accuracy:.3f}" in page
    assert ("meets target" if accuracy >= 0.70 else "below target") in page


def test_the_model_page_shows_history_split_and_buttons_for_admins_only(client, user, admin_user, model):
    model_rollout_start(model=model, version=model.versions.get(version=2), weight=10, user=admin_user)
    client.force_login(user)
    page = client.get("/models/coord-model/").content.decode()
    assert "Traffic split" in page and "90%" in page and "10%" in page and "waiting for feedback" in page
    assert "confusion-data" in page and "rollout started" in page
    assert "Promote v2" not in page and "Activate v3" not in page
    assert client.post("/models/coord-model/activate/", {"version": "v3"}).status_code == 403
    client.force_login(admin_user)
    page = client.get("/models/coord-model/").content.decode()
    assert "Promote v2" in page and "Activate v3" in page
    assert client.post("/models/coord-model/promote/").status_code == 302
    assert model.versions.get(is_active=True).version == 2
    client.post("/models/coord-model/activate/", {"version": "v1"})
    page = client.get("/models/coord-model/").content.decode()
    assert "Roll back to v1" not in page and "rollback" in page.lower()


def test_compare_shows_two_to_five_versions(client, user, model):
    client.force_login(user)
    page = client.get("/models/compare/?versions=coord-model:v1,coord-model:v2").content.decode()
    assert "coord-model:v1" in page and "coord-model:v2" in page and "val_accuracy" in page
    res = client.get("/models/compare/?versions=coord-model:v1")
    assert res.status_code == 400 and "2 to 5" in res.content.decode()
    res = client.get("/models/compare/?versions=coord-model:v1,coord-model:v9")
    assert res.status_code == 400 and "no version v9" in res.content.decode()
    assert client.get("/models/ghost/").status_code == 404


def test_a_stored_name_with_a_slash_renders_and_opens(client, user, trained):
    """A name stored before names were checked must not make the pages fail for everyone."""
    from neural.registry.models import RegisteredModel

    RegisteredModel.objects.filter(name="coord-model").update(name="team/a")
    client.force_login(user)
    page = client.get("/models/")
    assert page.status_code == 200 and "team/a" in page.content.decode()
    assert "/models/team%252Fa/" in page.content.decode()
    assert client.get("/models/team%252Fa/").status_code == 200
