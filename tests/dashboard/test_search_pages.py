from __future__ import annotations

import json
import re

from neural.training.tuning import tuning_job_create, tuning_job_run
from tests.factories import copies


def _search(version, space="efficient"):
    job = tuning_job_create(user=None, version=version, method="random", trials=3, epochs=2, space=space, enqueue=False)
    return tuning_job_run(job_id=job.pk)


def test_the_search_pages_list_a_search_and_chart_and_table_every_trial(client, user, trained):
    job = _search(trained.model_version)
    client.force_login(user)
    listing = client.get("/searches/").content.decode()
    assert f'href="/searches/{job.pk}/"' in listing and "efficient" in listing and "3/3" in listing
    html = client.get(f"/searches/{job.pk}/").content.decode()
    table = re.search(r'<table id="trials">(.*?)</table>', html, re.S).group(1)
    headers = re.findall(r"<th>([^<]+)</th>", table)
    assert headers[:3] == ["trial", "state", "accuracy"] and {"hidden_sizes", "residual", "norm", "dropout"} <= set(
        headers
    )
    assert re.findall(r"<tr(?: class=\"front\")?><td>(\d+)</td>", table) == ["0", "1", "2"]
    history = json.loads(
        re.search(r'<script id="history-fig" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    plotted = sorted(y for trace in history["data"] if trace["mode"] == "markers" for y in trace["y"])
    stored = sorted(t.value for t in _trials(job) if t.value is not None)
    assert plotted == stored
    assert 'id="size-fig"' in html and f"trial {job.best_trial}, accuracy {job.best_value:.4f}" in html


def test_a_hyper_search_has_no_size_chart_and_an_unknown_search_is_a_404(client, user, trained):
    job = _search(trained.model_version, space="hyper")
    client.force_login(user)
    html = client.get(f"/searches/{job.pk}/").content.decode()
    assert "learning_rate" in html and 'id="history-fig"' in html
    assert client.get("/searches/99999/").status_code == 404


def _trials(job):
    import optuna

    from neural.training.tuning import study_storage

    with study_storage() as storage:
        return optuna.load_study(study_name=job.study_name, storage=storage).get_trials()


def test_it_draws_parallel_coordinates_and_option_importance_of_the_trials(client, user, trained):
    job = _search(trained.model_version, space="hyper")
    client.force_login(user)
    html = client.get(f"/searches/{job.pk}/").content.decode()
    done = [t for t in _trials(job) if t.state.name == "COMPLETE"]
    parallel = json.loads(
        re.search(r'<script id="parallel-fig" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    dims = parallel["data"][0]["dimensions"]
    assert dims[-1]["label"] == "accuracy" and sorted(dims[-1]["values"]) == sorted(t.value for t in done)
    assert {d["label"] for d in dims[:-1]} == set(done[0].params)
    importance = json.loads(
        re.search(r'<script id="importance-fig" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    assert set(importance["data"][0]["y"]) <= set(done[0].params)
    assert abs(sum(importance["data"][0]["x"]) - 1.0) < 1e-6
    assert "search_live.js" not in html  # a finished search is not polled


def test_the_list_pages_through_every_search_newest_first(client, user, trained):
    from neural.training.models import TuningJob

    first = tuning_job_create(
        user=None, version=trained.model_version, method="random", trials=3, epochs=2, space="hyper", enqueue=False
    )
    copies(first, 250)
    ids = list(TuningJob.objects.order_by("-pk").values_list("pk", flat=True))
    client.force_login(user)
    shown = []
    for page in range(1, 7):
        html = client.get(f"/searches/?page={page}").content.decode()
        shown += [int(i) for i in re.findall(r'href="/searches/(\d+)/"', html)]
    assert shown == ids  # 251 in all, the oldest (past the old cut at 200) included
    assert "rows 251–251 of 251" in html and 'rel="next"' not in html
