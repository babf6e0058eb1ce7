"""The obvious argument a seed command left out (the guide's own troubleshooting lines omit them):
the only candidate, or the most recent one, said on stderr with the other choices; with none,
one line naming the flag and exit 2."""

from __future__ import annotations

from django.db.models import Max

from neural.datasets.models import Dataset
from neural.management.base import fail
from neural.registry.models import RegisteredModel

SHOWN = 8  # choices listed in a note; the rest are counted


def _choices(names: list[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def default_dataset(cmd, *, flag: str, pattern: str | None = None) -> str:
    """The newest data set name (of ``pattern`` when given), as ``name:vN``."""
    qs = Dataset.objects.all()
    if pattern and qs.filter(pattern=pattern).exists():  # else any data set: a pattern is only a label
        qs = qs.filter(pattern=pattern)
    newest = list(qs.values("name").annotate(last=Max("created_at")).order_by("-last", "name"))
    if not newest:
        raise fail(f"{flag}: no data set is stored; import or generate one (`data --help`)")
    latest = qs.filter(name=newest[0]["name"]).order_by("-version").first()
    names = [row["name"] for row in newest]
    why = "the only data set" if len(names) == 1 else f"the most recent of {_choices(names)}"
    cmd.progress(f"{flag} not given: using {latest.name}:v{latest.version} ({why}); pass {flag} to choose")
    return f"{latest.name}:v{latest.version}"


def default_model(cmd, *, flag: str = "--model") -> str:
    """The only registered model, or the one whose newest version is the most recent."""
    ranked = list(
        RegisteredModel.objects.annotate(last=Max("versions__created_at"))
        .filter(last__isnull=False)
        .order_by("-last", "name")
        .values_list("name", flat=True)
    )
    if not ranked:
        raise fail(f"{flag}: no model is registered yet; train one first (`neural train --help`)")
    why = "the only model" if len(ranked) == 1 else f"the most recently trained of {_choices(ranked)}"
    cmd.progress(f"{flag} not given: using {ranked[0]} ({why}); pass {flag} to choose")
    return ranked[0]
