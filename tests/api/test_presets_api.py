from __future__ import annotations

from neural.training.models import EnsembleJob, TrainingSession


def start(api, config):
    payload = {"pattern_type": "coordination", "training_data": "coord", "epochs": 2, "config": config}
    return api.post("/api/v1/neural/train", payload, format="json")


def test_it_trains_with_the_named_preset_under_the_requests_options(api, dataset):
    res = start(api, {"preset": "default", "learning_rate": 0.01})
    assert res.status_code == 202, res.json()
    config = TrainingSession.objects.get(pk=res.json()["session_id"]).config
    assert config["architecture"] == "tabm" and config["learning_rate"] == 0.01


def test_best_queues_a_bagged_ensemble_of_default_members(api, dataset):
    res = start(api, {"preset": "best", "learning_rate": 0.01})
    assert res.status_code == 202, res.json()
    body = res.json()
    job = EnsembleJob.objects.get(pk=body["ensemble_job_id"])
    assert (job.model_name, job.method, job.base_models, body["model"]) == ("coordination", "voting", 5, "coordination")
    members = TrainingSession.objects.filter(pk__in=[s["session_id"] for s in body["sessions"]])
    assert members.count() == 5 and {m.model_name for m in members} == {"coordination-members"}
    assert all(m.config["architecture"] == "tabm" and m.config["learning_rate"] == 0.01 for m in members)
    assert len({m.config["bagging_seed"] for m in members}) == 5


def test_it_refuses_an_unknown_preset_and_a_session_name_for_best_naming_the_field(api, dataset):
    res = start(api, {"preset": "turbo"})
    assert res.status_code == 400 and "preset must be one of" in res.json()["fields"]["preset"], res.json()
    payload = {
        "pattern_type": "coordination",
        "training_data": "coord",
        "session_name": "one",
        "config": {"preset": "best"},
    }
    res = api.post("/api/v1/neural/train", payload, format="json")
    assert res.status_code == 400 and "session_name" in res.json()["fields"], res.json()
    res = start(api, {"preset": "best", "model_storage": {"path": "/etc"}})
    assert res.status_code == 400 and "model_storage" in str(res.json()["fields"]), res.json()
    assert TrainingSession.objects.count() == 0 and EnsembleJob.objects.count() == 0
