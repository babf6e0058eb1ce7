"""Query parameters read the same way in every view: a bad one is a 400 naming it, never a 500."""

from __future__ import annotations

from neural.errors import DataError


def int_param(request, name: str, *, default: int | None, minimum: int, maximum: int) -> int | None:
    """``?name=`` as a whole number from ``minimum`` to ``maximum`` (``default`` when absent)."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    text = raw.strip()
    digits = text[1:] if text[:1] == "-" else text
    # (more than 20 digits is out of any range here, and int() refuses over 4,300)
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 20) or not minimum <= int(text) <= maximum:
        raise DataError(f"{name} must be a whole number from {minimum} to {maximum}", field=name)
    return int(text)
