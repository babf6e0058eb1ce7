"""The session page's per-class table (templates/dashboard/_per_class.html)."""

from __future__ import annotations

import re

from neural.registry.models import ModelVersion


def test_the_session_page_shows_per_class_figures_and_the_threshold(client, user, trained):
    client.force_login(user)
    html = client.get(f"/sessions/{trained.pk}/").content.decode()
    table = re.search(r'<table id="per-class-table">(.*?)</table>', html, re.S).group(1)
    per_class = trained.model_version.per_class()
    for row in per_class["classes"]:
        cells = re.search(rf"<tr><th>{re.escape(row['class'])}</th>(.*?)</tr>", table).group(1)
        expected = [str(row["support"])] + [
            "-" if row[k] is None else f"{row[k]:.4f}" for k in ("precision", "recall", "false_positive_rate", "f1")
        ]
        assert re.findall(r"<td>(.*?)</td>", cells) == expected
    positive = per_class["threshold"]["positive_class"]
    assert f"Decision threshold: {positive} when its probability is above 0.5." in html


def test_a_class_with_no_rows_shows_a_dash(client, user, trained):
    ModelVersion.objects.filter(pk=trained.model_version.pk).update(confusion_matrix=[[5, 0], [0, 0]])
    client.force_login(user)
    html = client.get(f"/sessions/{trained.pk}/").content.decode()
    second = re.findall(r"<tr><th>[^<]+</th>((?:<td>[^<]*</td>)+)</tr>", html.split('id="per-class-table"')[1])[1]
    assert re.findall(r"<td>(.*?)</td>", second) == ["0", "-", "-", "0.0000", "-"]
