"""The training form offers every option TrainConfig accepts, each with its default."""

from __future__ import annotations

import re
from dataclasses import fields

from dashboard.training_form import NOT_ON_FORM, option_names_missing
from neural.engine.config import TrainConfig


def test_it_places_every_training_option_in_a_group():
    assert option_names_missing() == set()


def test_the_overview_form_shows_each_option_with_its_default(client, user, dataset):
    client.force_login(user)
    html = client.get("/").content.decode()
    offered = set(re.findall(r'data-option="([a-z_]+)"', html))
    assert offered == {f.name for f in fields(TrainConfig)} - NOT_ON_FORM
    assert 'data-option="learning_rate" data-kind="float" inputmode="decimal" value="0.002"' in html
    assert 'data-option="hidden_sizes" data-kind="list"  value=""' in html  # the architecture's
    assert f'data-pattern="{dataset.pattern}"' in html  # the pattern follows the chosen data set
