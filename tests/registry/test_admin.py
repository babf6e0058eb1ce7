from __future__ import annotations

from django.contrib.auth import get_user_model

from neural.registry.models import ActivationEvent


def test_it_activates_from_the_button_on_the_version_page(client, admin_user, model):
    client.force_login(admin_user)
    v2 = model.versions.get(version=2)
    page = client.get(f"/admin/registry/modelversion/{v2.pk}/change/")
    assert page.status_code == 200 and b"Activate v2" in page.content
    res = client.post(f"/admin/registry/modelversion/{v2.pk}/activate/")
    assert res.status_code == 302
    assert model.versions.get(is_active=True).version == 2
    event = ActivationEvent.objects.filter(model=model).latest("pk")
    assert (event.from_version, event.to_version, event.user) == (1, 2, admin_user)


def test_it_activates_with_the_admin_action(client, admin_user, model):
    client.force_login(admin_user)
    v3 = model.versions.get(version=3)
    res = client.post(
        "/admin/registry/modelversion/", {"action": "activate", "index": 0, "_selected_action": [v3.pk]}, follow=True
    )
    assert res.status_code == 200
    assert [str(m) for m in res.context["messages"]] == ["coord-model:v3 is now active"]
    assert model.versions.get(is_active=True).version == 3


def test_staff_without_the_permission_cannot_activate(client, model):
    staff = get_user_model().objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    v2 = model.versions.get(version=2)
    assert client.post(f"/admin/registry/modelversion/{v2.pk}/activate/").status_code == 403
    assert model.versions.get(is_active=True).version == 1


def test_it_asks_before_activating_a_version_that_scores_worse(client, admin_user, model):
    v2 = model.versions.get(version=2)
    v2.test_metrics = {**v2.test_metrics, "accuracy": model.versions.get(version=1).test_metrics["accuracy"] - 0.25}
    v2.save(update_fields=["test_metrics"])
    client.force_login(admin_user)
    page = client.get(f"/admin/registry/modelversion/{v2.pk}/change/").content.decode()
    assert "v2 scores 0.250 lower test accuracy than the active v1" in page
    page = client.post(f"/admin/registry/modelversion/{v2.pk}/activate/", follow=True).content.decode()
    assert "Not activated" in page and model.versions.get(is_active=True).version == 1
    listed = {"action": "activate", "index": 0, "_selected_action": [v2.pk]}
    assert "Not activated" in client.post("/admin/registry/modelversion/", listed, follow=True).content.decode()
    assert model.versions.get(is_active=True).version == 1
    client.post(f"/admin/registry/modelversion/{v2.pk}/activate/", {"confirm": "yes"})
    assert model.versions.get(is_active=True).version == 2
