"""The viewer role wins over staff permissions: a staff member in ``viewers`` activates nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient

from neural.registry.admin import can_activate
from tests.factories import UserFactory


@pytest.fixture
def staff(db):
    user = UserFactory(username="staff-member", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_modelversion"))
    return user


def test_staff_allowed_to_change_versions_may_activate_unless_a_viewer(staff):
    assert can_activate(staff)
    staff.groups.add(Group.objects.get(name="viewers"))
    staff = type(staff).objects.get(pk=staff.pk)  # permissions and groups are cached per object
    assert not can_activate(staff)


def test_a_staff_viewer_is_refused_activation_and_rollout_by_the_api(staff, trained):
    staff.groups.add(Group.objects.get(name="viewers"))
    api = APIClient()
    api.force_authenticate(staff)
    version = trained.model_version
    res = api.post(f"/api/v1/neural/models/{version.model.name}/activate", {"version": "v1"}, format="json")
    assert res.status_code == 403, res.json()
    res = api.post(
        f"/api/v1/neural/models/{version.model.name}/rollout", {"version": "v1", "weight": 10}, format="json"
    )
    assert res.status_code == 403
