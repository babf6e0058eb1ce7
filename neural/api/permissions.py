"""Roles (DESIGN.md §6): viewer (read), operator (train, predict, acknowledge alerts), admin
(activate, delete, manage users).

An account in the ``viewers`` group, unless a superuser, only reads: every API method other than
GET, HEAD and OPTIONS is refused with 403, as are the pages' forms. Every other account is an
operator; admins are staff allowed to change model versions (``neural.registry.admin.can_activate``).
Admins put accounts in the group on the Django admin's user page.
"""

from __future__ import annotations

from rest_framework import permissions

VIEWERS_GROUP = "viewers"
VIEWER_MESSAGE = "this account is a viewer: it may read, not change anything (an admin can make it an operator)"


def is_viewer(user) -> bool:
    """Whether ``user`` only reads. Kept on the user object for as long as it lives (a token's
    cached user lives ``TOKEN_TTL_S``; a change of groups forgets the cache in this process)."""
    if user is None or not user.is_authenticated or user.is_superuser:
        return False
    known = getattr(user, "_photondrift_viewer", None)
    if known is None:
        known = user._photondrift_viewer = user.groups.filter(name=VIEWERS_GROUP).exists()
    return known


class IsOperatorOrReadOnly(permissions.BasePermission):
    """Viewers may read; changing anything needs an operator (every API view has this rule)."""

    message = VIEWER_MESSAGE

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or not is_viewer(request.user)
