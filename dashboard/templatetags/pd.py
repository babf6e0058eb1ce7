"""Small display filters shared by the tables."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """``3725`` -> ``1 h 2 min``; ``42.5`` -> ``42 s``; empty for None."""
    if seconds is None:
        return ""
    seconds = round(float(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


@register.filter
def number(value, digits: int = 3) -> str:
    """A metric for a table cell: rounded, or a dash when the run did not record it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "–"
    return f"{value:.{int(digits)}f}"


@register.simple_tag
def search_choices() -> dict:
    """The search form's choices, from the engine (the searches view is not this form's owner)."""
    # lazy: the tuning module loads Optuna (about 0.6 s), only for pages that show the form
    from neural.engine import tuning

    return {"spaces": list(tuning.SPACES), "methods": list(tuning.METHODS)}
