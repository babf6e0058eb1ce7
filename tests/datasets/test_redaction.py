"""PII in samples: the data set sample (API and page) redacts what the quality report finds,
including social security numbers and card numbers stored as numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from neural.datasets.quality import REDACTED, quality_report, redact_frame
from neural.datasets.services import dataset_store_frame

CARDS = [4111111111111111, 5500005555555559, 4012888888881881, 378282246310005, 6011111111111117]
SECRETS = ["alice@example.com", "AKIAIOSFODNN7EXAMPLE", "123-45-6789", "4111111111111111", "5500005555555559"]


def frame(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    notes = pd.Series(["routine run"] * n, dtype=object)
    notes[0] = "mail alice@example.com"
    notes[1] = "key AKIAIOSFODNN7EXAMPLE leaked"
    notes[2:5] = ["ssn 123-45-6789 on file"] * 3
    notes[5] = "not an ssn: 000-12-3456 or 666-12-3456"
    return pd.DataFrame(
        {
            "card": [CARDS[i % len(CARDS)] for i in range(n)],
            "order_id": rng.integers(10**15, 10**16, n),  # 16-digit numbers, one in ten passes Luhn
            "notes": notes,
            "load": rng.normal(size=n),
            "ok": rng.random(n) < 0.5,
        }
    )


def test_it_finds_ssns_and_card_numbers_stored_as_numbers():
    pii = {(p["column"], p["kind"]): p["count"] for p in quality_report(frame(), target="ok")["pii"]}
    assert pii[("notes", "ssn")] == 3
    assert pii[("card", "credit_card")] == 60
    assert ("order_id", "credit_card") not in pii


def test_redact_frame_leaves_other_values_alone():
    df = frame()
    out = redact_frame(df, card_columns={"card"})
    assert (out["card"] == REDACTED).all() and out["order_id"].tolist() == df["order_id"].tolist()
    assert out.loc[0, "notes"] == REDACTED and out.loc[6, "notes"] == "routine run"
    assert out.loc[5, "notes"] == df.loc[5, "notes"]
    assert df.loc[0, "notes"] == "mail alice@example.com"  # a copy: the input is unchanged


def test_the_sample_api_and_the_data_set_page_show_no_pii(api, admin_client, db):
    ds = dataset_store_frame(df=frame(), name="pii", target="ok", pattern="security", source_format="csv")
    res = api.get(f"/api/v1/neural/datasets/{ds.pk}/sample?limit=10")
    assert res.status_code == 200
    rows = res.json()["rows"]
    assert rows[0]["notes"] == REDACTED and rows[0]["card"] == REDACTED and rows[6]["notes"] == "routine run"
    page = admin_client.get(f"/datasets/{ds.pk}/")
    assert page.status_code == 200
    for text in (res.content.decode(), page.content.decode()):
        assert not any(secret in text for secret in SECRETS)
