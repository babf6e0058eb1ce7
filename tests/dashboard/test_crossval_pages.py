"""The cross-validation pages: the folds side by side, the summary with its interval, the chart."""

from __future__ import annotations

import json
import re

from neural.training.crossval import cross_validation_run_here, cross_validation_start
from tests.factories import copies


def _cv(dataset, **kw):
    cv = cross_validation_start(
        user=None, dataset=dataset, pattern="coordination", folds=3, options={"epochs": 2}, enqueue=False, **kw
    )
    return cv


def test_the_page_shows_each_fold_the_summary_and_the_chart(client, user, dataset):
    cv = cross_validation_run_here(cv_id=_cv(dataset).pk)
    client.force_login(user)
    html = client.get(f"/cross-validations/{cv.pk}/").content.decode()
    folds = re.search(r'<table id="folds">.*?</table>', html, re.S).group(0)
    assert folds.count("<tr>") == 4  # the header and one row per fold
    for fold in cv.fold_rows.all():
        assert f"{fold.metrics['accuracy']:.4f}" in folds
    summary = cv.summary["accuracy"]
    assert f"{summary['mean']:.4f}" in html and f"{summary['ci_low']:.4f} to {summary['ci_high']:.4f}" in html
    figure = json.loads(re.search(r'<script id="folds-fig" type="application/json">(.*?)</script>', html, re.S)[1])
    assert figure["data"][0]["y"] == [f.metrics["accuracy"] for f in cv.fold_rows.order_by("index")]
    assert f"/api/v1/neural/cross-validations/{cv.pk}/predictions" in html
    assert 'http-equiv="refresh"' not in html
    listing = client.get("/cross-validations/").content.decode()
    assert f'href="/cross-validations/{cv.pk}/"' in listing and f"{summary['mean']:.4f}" in listing


def test_a_running_cross_validation_refreshes_and_an_unknown_one_is_404(client, user, dataset):
    cv = _cv(dataset, stratified=True)
    client.force_login(user)
    html = client.get(f"/cross-validations/{cv.pk}/").content.decode()
    assert 'http-equiv="refresh"' in html and "folds-fig" not in html
    assert client.get("/cross-validations/999/").status_code == 404


def test_the_pages_need_a_login(client, db):
    assert client.get("/cross-validations/").status_code == 302


def test_the_admin_shows_a_cross_validation_with_its_folds(admin_client, dataset):
    cv = _cv(dataset)
    html = admin_client.get(f"/admin/training/crossvalidation/{cv.pk}/change/").content.decode()
    assert "coord:v1" in html and html.count("queued") >= 3  # the three folds, inline


def test_the_list_pages_through_every_cross_validation_newest_first(client, user, dataset):
    from neural.training.models import CrossValidation

    first = _cv(dataset)
    copies(first, 60)
    ids = list(CrossValidation.objects.order_by("-pk").values_list("pk", flat=True))
    client.force_login(user)
    pages = [client.get(f"/cross-validations/?page={n}").content.decode() for n in (1, 2)]
    shown = [[int(i) for i in re.findall(r'href="/cross-validations/(\d+)/"', html)] for html in pages]
    assert shown[0] == ids[:50] and shown[1] == ids[50:]  # 61 in all: nothing left out
    assert "rows 51–61 of 61" in pages[1] and 'rel="next"' in pages[0] and 'rel="next"' not in pages[1]
