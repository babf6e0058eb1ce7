from __future__ import annotations

import re

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


def _alert(model, *, status="firing", message="accuracy 0.56 below 0.70"):
    from neural.monitoring.models import Alert, AlertRule

    rule = AlertRule.objects.create(model=model, kind="accuracy_below", threshold=0.7)
    return Alert.objects.create(rule=rule, model=model, status=status, value=0.56, message=message)


def test_it_labels_each_accuracy_and_shows_a_firing_alert_on_the_models_pages(client, user, model):
    _alert(model)
    client.force_login(user)
    for url in ("/models/", "/models/coord-model/"):
        page = client.get(url).content.decode()
        assert "Validation accuracy" in page and "Test accuracy" in page and "Live accuracy (14 d" in page, url
        assert "status status-firing" in page and "accuracy 0.56 below 0.70" in page, url
    assert "no feedback labels yet" in client.get("/models/coord-model/").content.decode()


def test_activating_a_worse_version_asks_first_and_says_by_how_much(client, admin_user, model):
    v2 = model.versions.get(version=2)
    active = model.versions.get(version=1)
    v2.test_metrics = {**v2.test_metrics, "accuracy": active.test_metrics["accuracy"] - 0.125}
    v2.save(update_fields=["test_metrics"])
    client.force_login(admin_user)
    page = client.get("/models/coord-model/").content.decode()
    assert 'data-confirm="v2 scores 0.125 lower test accuracy than the active v1' in page
    res = client.post("/models/coord-model/activate/", {"version": "v2"})
    assert res.status_code == 200 and "scores 0.125 lower test accuracy" in res.content.decode()
    assert model.versions.get(is_active=True).version == 1  # nothing changed without the confirmation
    res = client.post("/models/coord-model/activate/", {"version": "v2", "confirm": "yes"})
    assert res.status_code == 302 and model.versions.get(is_active=True).version == 2


def test_it_starts_a_rollout_from_the_page_and_names_a_bad_weight(client, admin_user, model):
    client.force_login(admin_user)
    page = client.post("/models/coord-model/rollout/", {"version": "v3", "weight": "150"}, follow=True)
    assert "weight must be a whole number of percent from 1 to 99" in page.content.decode()
    model.refresh_from_db()
    assert model.candidate_id is None
    client.post("/models/coord-model/rollout/", {"version": "v3", "weight": "20"})
    model.refresh_from_db()
    assert model.candidate.version == 3 and model.candidate_weight == 20


def test_the_versions_table_sorts_by_test_accuracy_and_filters(client, user, model):
    for number, accuracy in ((2, 0.9), (3, 0.1)):
        v = model.versions.get(version=number)
        v.test_metrics = {**v.test_metrics, "accuracy": accuracy}
        v.save(update_fields=["test_metrics"])
    client.force_login(user)
    page = client.get("/models/?sort=-test_accuracy").content.decode()
    order = re.findall(r'<tr data-version="coord-model:(v\d)"', page)
    assert order[0] == "v2" and order[-1] == "v3"
    page = client.get("/models/?active=yes").content.decode()
    assert re.findall(r'<tr data-version="coord-model:(v\d)"', page) == ["v1"]
    res = client.get("/models/?sort=size;drop")
    assert res.status_code == 400 and "<strong>sort</strong>" in res.content.decode()


def test_compare_shows_live_accuracy_next_to_the_target(client, user, model):
    client.force_login(user)
    page = client.get("/models/compare/?versions=coord-model:v1,coord-model:v2").content.decode()
    assert "live accuracy (14 d, feedback)" in page and "target (pattern)" in page and "0.70" in page
