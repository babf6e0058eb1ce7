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
