from __future__ import annotations

import json
import re


def test_it_pages_the_epoch_table_and_embeds_downsampled_curves(client, user, dataset):
    from tests.training.test_series import make_session

    session = make_session(dataset, 9_000, spike_at=4_000)
    client.force_login(user)
    html = client.get(f"/sessions/{session.pk}/?page=3").content.decode()
    history = re.search(r'<table id="epoch-history">(.*?)</table>', html, re.S).group(1)
    assert re.findall(r"<tr[^>]*><td>(\d+)</td>", history) == [str(e) for e in range(8_900, 8_850, -1)]
    data = json.loads(
        re.search(r'<script id="session-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    loss = data["series"]["train_loss"]
    assert data["resolution"] > 1 and len(loss["x"]) <= 2000 and 4_000 in loss["x"]
    assert len(html) < 300_000


def test_the_session_page_tables_every_epoch_metric_and_the_confusion_matrix(client, user, trained):
    client.force_login(user)
    html = client.get(f"/sessions/{trained.pk}/").content.decode()
    history = re.search(r'<table id="epoch-history">(.*?)</table>', html, re.S).group(1)
    headers = re.findall(r"<th>([^<]+)</th>", history)
    last = trained.epoch_metrics.order_by("epoch").last().metrics
    assert headers == ["epoch", *last]
    expected = {"train_loss", "val_loss", "val_accuracy", "val_macro_f1", "val_roc_auc", "lr", "epoch_time_s"}
    assert expected <= set(headers)
    rows = re.findall(r"<tr[^>]*><td>(\d+)</td>", history)
    assert rows == [str(e) for e in trained.epoch_metrics.order_by("-epoch").values_list("epoch", flat=True)]
    confusion = re.search(r'<table id="confusion-table">(.*?)</table>', html, re.S).group(1)
    cells = [int(n) for n in re.findall(r"<td>(\d+)</td>", confusion)]
    assert sum(cells) == trained.model_version.split["test_rows"]


def test_the_session_page_shows_its_versions_live_accuracy_target_and_open_alert(client, user, trained):
    from neural.monitoring.models import Alert, AlertRule
    from neural.monitoring.services import feedback_record
    from neural.serving import services as serving
    from tests.serving.test_services import rows

    version = trained.model_version
    client.force_login(user)
    html = client.get(f"/sessions/{trained.pk}/").content.decode()
    assert 'Live accuracy (14 d, feedback): <span class="muted">no feedback labels yet</span>; target 0.70' in html
    _, results = serving.predict(model_ref="coord-model", records=rows(version.dataset, 4))
    for r, actual in zip(results[:3], (True, True, False), strict=True):
        feedback_record(prediction_id=r["prediction_id"], actual=actual)
    right = sum(r["prediction"] == actual for r, actual in zip(results[:3], (True, True, False), strict=True))
    rule = AlertRule.objects.create(model=version.model, kind="accuracy_below", threshold=0.7)
    Alert.objects.create(rule=rule, model=version.model, status="firing", value=0.56, message="accuracy 0.56")
    html = client.get(f"/sessions/{trained.pk}/").content.decode()
    live = re.search(r'<p id="version-live">(.*?)</p>', html, re.S).group(1)
    assert f'{right / 3:.3f} <span class="muted">from 3 labels</span>; target 0.70' in live
    assert ('<span class="ok">met</span>' if right / 3 >= 0.7 else '<span class="bad">not met</span>') in live
    assert 'role="alert"><span class="status status-firing">firing</span>' in html and "accuracy 0.56" in html
