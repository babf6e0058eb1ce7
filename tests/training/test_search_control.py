"""Search limits (trials x epochs, searches per user) and cancelling a search: API and CLI."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from neural.registry.models import ModelVersion
from neural.training.models import TuningJob
from neural.training.search_control import StopWhenCancelled
from neural.training.tuning import tuning_job_create, tuning_job_run, tuning_report
from tests.factories import UserFactory, api_token

SEARCH = {"model": "coord-model", "space": "efficient", "method": "random", "trials": 2, "epochs": 1}


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


def _search(owner, **overrides) -> TuningJob:
    options = {"method": "random", "trials": 2, "epochs": 1, "space": "efficient", **overrides}
    return tuning_job_create(user=owner, version=ModelVersion.objects.get(), enqueue=False, **options)


def test_it_refuses_a_search_over_the_trials_x_epochs_limit_naming_trials(api, trained, settings):
    settings.SEARCH_MAX_TRIAL_EPOCHS = 100
    res = api.post("/api/v1/neural/searches", {**SEARCH, "trials": 11, "epochs": 10}, format="json")
    assert res.status_code == 400 and "trials" in res.json()["fields"], res.json()
    assert "11 x 10 = 110" in res.json()["error"] and "SEARCH_MAX_TRIAL_EPOCHS" in res.json()["error"]
    assert not TuningJob.objects.exists()
    ok = api.post("/api/v1/neural/searches", {**SEARCH, "trials": 10, "epochs": 10}, format="json")
    assert ok.status_code == 202, ok.json()


def test_the_version_s_own_epochs_count_when_the_search_names_none(api, trained, settings):
    settings.SEARCH_MAX_TRIAL_EPOCHS = 7  # the version trained 4 epochs: 2 trials x 4 = 8
    res = api.post("/api/v1/neural/searches", {k: v for k, v in SEARCH.items() if k != "epochs"}, format="json")
    assert res.status_code == 400 and "2 x 4 = 8" in res.json()["error"], res.json()


def test_it_refuses_more_active_searches_per_user_than_allowed_with_a_409(api, user, trained, settings):
    settings.SEARCH_MAX_ACTIVE_PER_USER = 2
    _search(user)
    _search(user)
    res = api.post("/api/v1/neural/searches", SEARCH, format="json")
    assert res.status_code == 409 and "searches" in res.json()["fields"], res.json()
    assert TuningJob.objects.count() == 2
    other = _client(UserFactory(username="other-operator"))
    assert other.post("/api/v1/neural/searches", SEARCH, format="json").status_code == 202  # per user
    TuningJob.objects.filter(owner=user).update(status=TuningJob.Status.SUCCEEDED)
    assert api.post("/api/v1/neural/searches", SEARCH, format="json").status_code == 202  # ended ones do not count


def test_the_owner_cancels_a_queued_search_and_its_trials_never_start(api, user, trained):
    job = _search(user)
    res = api.delete(f"/api/v1/neural/searches/{job.pk}")
    assert res.status_code == 200 and res.json()["status"] == "cancelled", res.json()
    ran = tuning_job_run(job_id=job.pk)  # a runner that takes the queued message later
    assert ran.status == "cancelled" and ran.trials_claimed == 0
    assert tuning_report(job=ran)["trials"] == []
    again = api.delete(f"/api/v1/neural/searches/{job.pk}")
    assert again.status_code == 409 and "already cancelled" in again.json()["error"]


def test_a_running_trial_stops_at_its_next_epoch_end_and_no_other_starts(user, trained, monkeypatch):
    job = _search(user, trials=3, epochs=30)

    class CancelledDuringEpoch2(StopWhenCancelled):
        """Someone cancels the search while epoch 2 of the first trial trains."""

        def on_epoch_end(self, state) -> None:
            if state.epoch == 2:
                TuningJob.objects.filter(pk=self.job_id).update(status=TuningJob.Status.CANCELLED)
            super().on_epoch_end(state)

    monkeypatch.setattr("neural.training.tuning.StopWhenCancelled", CancelledDuringEpoch2)
    done = tuning_job_run(job_id=job.pk)
    report = tuning_report(job=done)
    assert done.status == "cancelled" and done.trials_claimed == 1  # the 2nd and 3rd never started
    assert [(t["state"], t["note"]) for t in report["trials"]] == [("pruned", "search cancelled (stopped at epoch 2)")]


def test_who_may_cancel_a_search(user, trained, admin_api):
    job = _search(user)
    viewer = UserFactory(username="a-viewer")
    viewer.groups.add(Group.objects.get(name="viewers"))
    assert _client(viewer).delete(f"/api/v1/neural/searches/{job.pk}").status_code == 403
    stranger = _client(UserFactory(username="another-operator"))
    res = stranger.delete(f"/api/v1/neural/searches/{job.pk}")
    assert res.status_code == 403 and "operator who started" in res.json()["error"]
    staff = _client(UserFactory(username="staff-without-permission", is_staff=True))
    assert staff.delete(f"/api/v1/neural/searches/{job.pk}").status_code == 403
    assert TuningJob.objects.get(pk=job.pk).status == "queued"
    assert admin_api.delete(f"/api/v1/neural/searches/{job.pk}").status_code == 200
    assert admin_api.delete("/api/v1/neural/searches/99999").status_code == 404


def test_the_cli_cancels_a_search_by_id(user, trained):
    job = _search(user)
    out = StringIO()
    call_command("neural", "search-cancel", "--search", str(job.pk), stdout=out)
    assert f"search {job.pk} cancelled: 2 queued trial(s) will not start" in out.getvalue()
    assert TuningJob.objects.get(pk=job.pk).status == "cancelled"
    with pytest.raises(CommandError) as err:
        call_command("neural", "search-cancel", "--search", str(job.pk), stdout=StringIO())
    assert err.value.returncode == 2 and "already cancelled" in str(err.value)
    with pytest.raises(CommandError) as err:
        call_command("neural", "search-cancel", "--search", "99999", stdout=StringIO())
    assert err.value.returncode == 2 and "does not exist" in str(err.value)


def test_the_cli_refuses_a_search_over_the_limit_with_one_line_and_exit_2(trained, settings):
    settings.SEARCH_MAX_TRIAL_EPOCHS = 20
    with pytest.raises(CommandError) as err:
        call_command("neural", "hyper-optimize", "--model", "coord-model", "--trials", "5", "--epochs", "10")
    assert err.value.returncode == 2 and "5 x 10 = 50 is over this server's limit of 20" in str(err.value)
    assert not TuningJob.objects.exists()
