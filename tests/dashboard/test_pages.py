from __future__ import annotations

import json
import re


def figure(html: str, element_id: str) -> dict:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"{element_id} is not on the page"
    return json.loads(match.group(1))


def test_the_session_page_renders_stored_epochs_and_the_confusion_matrix(client, user, trained):
    client.force_login(user)
    html = client.get(f"/sessions/{trained.pk}/").content.decode()
    data = figure(html, "session-data")
    epochs = list(trained.epoch_metrics.values_list("epoch", flat=True))
    assert data["resolution"] == 1 and data["series"]["train_loss"]["x"] == epochs
    assert data["series"]["val_loss"]["y"] == list(trained.epoch_metrics.values_list("val_loss", flat=True))
    matrix = figure(html, "confusion-fig")["data"][0]["z"]
    assert sum(map(sum, matrix)) == trained.model_version.split["test_rows"]
    assert 'id="status" class="status status-succeeded"' in html


def test_the_overview_lists_sessions_models_and_data_sets(client, user, trained):
    client.force_login(user)
    html = client.get("/").content.decode()
    assert f'data-session="{trained.pk}"' in html
    assert "coord-model" in html and "coord:v1" in html


def test_an_unknown_session_page_is_a_404(client, user):
    client.force_login(user)
    assert client.get("/sessions/424242/").status_code == 404
