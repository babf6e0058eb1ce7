from __future__ import annotations

import json
import re

from neural.datasets.models import Dataset
from neural.datasets.versions import dataset_split
from tests.datasets.test_quality import planted


def figure(html: str, element_id: str) -> dict:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"{element_id} is not on the page"
    return json.loads(match.group(1))


def test_the_list_page_shows_versions_and_both_forms(client, user, dataset):
    client.force_login(user)
    html = client.get("/datasets/").content.decode()
    assert f'data-dataset="{dataset.pk}"' in html and 'id="upload-form"' in html and 'id="generate-form"' in html
    assert "claude-flow-memory" in html  # the format list comes from the registry


def test_the_detail_page_shows_schema_quality_charts_versions_and_sample(client, user, db):
    from neural.datasets.services import dataset_store_frame

    ds = dataset_store_frame(df=planted(), name="planted", target="ok", pattern="security", source_format="csv")
    child = dataset_split(dataset=ds, validation_ratio=0.2)
    client.force_login(user)
    html = client.get(f"/datasets/{child.pk}/").content.decode()
    assert 'data-column="notes"' in html and "PII: email" in html and "leakage" in html
    assert "alice@example.com" not in html.split('id="sample"')[0]  # findings never echo values
    missing = figure(html, "missing-fig")
    assert missing["data"][0]["x"][0] == "load"
    balance = figure(html, "balance-fig")
    assert sum(balance["data"][0]["y"]) == child.rows
    assert f'href="/datasets/{ds.pk}/">v1' in html and "from v1 by split" in html
    assert html.count("<tr>", html.index('id="sample"')) >= 20
    # Every schema control is labelled by its column (a screen reader says which one it sets).
    controls = len(re.findall(r'<select class="kind"|<input type="checkbox" class="used"', html))
    assert controls == 2 * len(child.schema)
    assert len(re.findall(r'class="(?:kind|used)" aria-label="[^"]+ column ', html)) == controls


def test_the_generator_form_stores_a_version_and_refuses_bad_input(client, user, db):
    client.force_login(user)
    res = client.post("/datasets/generate/", {"name": "gen", "pattern": "prediction", "rows": "200", "seed": "1"})
    ds = Dataset.objects.get(name="gen")
    assert res.status_code == 302 and res["Location"] == f"/datasets/{ds.pk}/" and ds.rows == 200
    bad = client.post("/datasets/generate/", {"name": "gen", "pattern": "astrology", "rows": "200"})
    assert bad.status_code == 400 and "unknown pattern" in bad.content.decode()
    assert client.post("/datasets/generate/", {"name": "g", "pattern": "prediction", "rows": "x"}).status_code == 400
    assert Dataset.objects.count() == 1


def test_an_unknown_data_set_page_is_a_404(client, user):
    client.force_login(user)
    assert client.get("/datasets/424242/").status_code == 404
