from __future__ import annotations

from neural.training.models import TrainingSession


def start(api, config):
    payload = {"pattern_type": "coordination", "training_data": "coord", "epochs": 2, "config": config}
    return api.post("/api/v1/neural/train", payload, format="json")


def test_it_trains_with_the_named_preset_under_the_requests_options(api, dataset):
    res = start(api, {"preset": "default", "learning_rate": 0.01})
    assert res.status_code == 202, res.json()
    config = TrainingSession.objects.get(pk=res.json()["session_id"]).config
    assert config["architecture"] == "tabm" and config["learning_rate"] == 0.01


def test_it_refuses_best_without_ensembles_and_an_unknown_preset_naming_the_field(api, dataset):
    for preset, message in (("best", "needs ensembles"), ("turbo", "preset must be one of")):
        res = start(api, {"preset": preset})
        assert res.status_code == 400 and "preset" in res.json()["fields"], res.json()
        assert message in res.json()["fields"]["preset"]
    assert TrainingSession.objects.count() == 0
