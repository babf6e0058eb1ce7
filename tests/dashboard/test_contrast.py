"""Every text colour in static/css/app.css meets WCAG AA (4.5:1) on the background it is used
on, in the light and the dark scheme (the badges, the live mark, muted text, links)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parents[2] / "static" / "css" / "app.css").read_text()
# (text variable, background variable) as the stylesheet pairs them
PAIRS = [
    ("ink", "bg"), ("ink", "card"), ("ink", "neutral-bg"), ("muted", "bg"), ("muted", "card"),
    ("accent", "card"), ("accent", "accent-bg"), ("ok", "ok-bg"), ("ok", "bg"), ("bad", "bad-bg"),
    ("bad", "card"), ("warn", "warn-bg"),
]  # fmt: skip


def scheme(block: str) -> dict[str, str]:
    found = dict(re.findall(r"--([a-z-]+):\s*#([0-9a-f]{6}|[0-9a-f]{3})\b", block))
    return {
        name: "#" + (digits if len(digits) == 6 else "".join(c * 2 for c in digits)) for name, digits in found.items()
    }


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


LIGHT = scheme(CSS.split("@media (prefers-color-scheme: dark)")[0])
DARK = {**LIGHT, **scheme(CSS.split("@media (prefers-color-scheme: dark)")[1].split("}")[0])}


@pytest.mark.parametrize("colours", [LIGHT, DARK], ids=["light", "dark"])
def test_every_text_colour_meets_aa_on_its_background(colours):
    low = {
        f"{t} on {b}": round(ratio(colours[t], colours[b]), 2) for t, b in PAIRS if ratio(colours[t], colours[b]) < 4.5
    }
    assert low == {}


def test_the_dark_scheme_sets_every_colour():
    assert set(scheme(CSS.split("@media (prefers-color-scheme: dark)")[1].split("}")[0])) >= {
        t for p in PAIRS for t in p
    }
