from __future__ import annotations

import json
import re

from tests.training.test_series import make_session


def page_data(html: str) -> dict:
    return json.loads(
        re.search(r'<script id="compare-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    )


def test_it_tables_each_run_with_its_options_and_marks_the_differences(client, user, dataset):
    a, b = make_session(dataset, 30), make_session(dataset, 40)
    b.config = {**b.config, "learning_rate": 0.05}
    b.tags = ["sweep"]
    b.save()
    client.force_login(user)
    html = client.get(f"/compare/?sessions={b.pk},{a.pk}").content.decode()
    runs = page_data(html)["runs"]
    assert [r["id"] for r in runs] == [b.pk, a.pk] and runs[0]["tags"] == ["sweep"]
    assert runs[0]["best_epoch"] is None and runs[1]["epochs"] == 30
    differs = re.findall(r'<tr class="differs"><th>([^<]+)</th>', html)
    assert "learning_rate" in differs and "epochs" in differs and "batch_size" not in differs


def test_it_says_which_sessions_do_not_exist_and_refuses_bad_lists(client, user, dataset):
    a = make_session(dataset, 5)
    client.force_login(user)
    res = client.get(f"/compare/?sessions={a.pk},999999")
    assert res.status_code == 200 and "no training session 999999" in res.content.decode()
    for bad in ("1,../2", ",".join(str(i) for i in range(13)), "1;drop"):
        res = client.get("/compare/", {"sessions": bad})
        assert res.status_code == 400 and 'id="problem"' in res.content.decode(), bad
