"""The one rule for names (models, data sets, sessions) and for where stored files may go.

A name is a slug: 1-100 letters, digits, ``.``, ``_`` or ``-``, starting with a letter or digit,
never containing ``..``. So a name is always one harmless path component: no ``/``, no ``\\``,
no leading dot, nothing a shell or a URL treats specially. Every entry (API, CLI, archive
manifest, training file) checks it through :func:`validate_name`.

Every write or delete under a storage root goes through :func:`confined`, which resolves the
path (symbolic links included) and refuses one that leaves the root.
"""

from __future__ import annotations

import re
from pathlib import Path

from neural.engine.errors import DataError, UnsafePath

NAME_MAX = 100
NAME_RE = re.compile(rf"^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.-]{{0,{NAME_MAX - 1}}}$")
NAME_RULE = f"1-{NAME_MAX} letters, digits, '.', '_' or '-', starting with a letter or digit, without '..'"


def is_valid_name(name: object) -> bool:
    return isinstance(name, str) and NAME_RE.fullmatch(name) is not None


def validate_name(name: object, *, field: str = "name") -> str:
    """Return ``name`` when it follows the rule.

    Raises:
        DataError: naming ``field``.
    """
    if not is_valid_name(name):
        raise DataError(f"{field} must be {NAME_RULE}; got {str(name)[:120]!r}", field=field)
    return name  # type: ignore[return-value]


def name_from_text(text: str) -> str:
    """A valid name made from free text (for names the product makes up, such as
    "retrain-churn-v3"): every run of other characters becomes one '-'."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", text.replace("..", "-")).strip("-._")[:NAME_MAX].rstrip("-._")
    return slug or "unnamed"


def confined(root: Path | str, *parts: str | Path) -> Path:
    """``root / parts`` resolved, refused unless it lies strictly inside ``root`` (resolved).

    A relative part is taken from ``root``; an absolute one must itself lie inside it. A symbolic
    link anywhere on the way that points out of the root is caught because both sides are resolved.

    Raises:
        UnsafePath: the path would leave ``root`` (or is ``root`` itself).
    """
    base = Path(root).expanduser().resolve()
    target = base.joinpath(*parts).resolve()
    if target == base or not target.is_relative_to(base):
        raise UnsafePath(f"{base.joinpath(*parts)} is not inside {base}; refused")
    return target
