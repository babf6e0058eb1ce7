"""`neural token`: make (or revoke) an API token for a user."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from neural.api.tokens import api_token_create, api_tokens_revoke
from neural.management.base import fail


class AccountCommands:
    """Mixed into the `neural` command; see SubcommandCommand."""

    account_subcommands = {
        "token": "Make an API token for a user (printed once: only its digest is stored), or --revoke them all.",
    }

    def add_token_arguments(self, p) -> None:
        p.add_argument("--user", required=True, help="username")
        p.add_argument("--expiry-hours", type=int, default=None, help="0: never expires (default: API_TOKEN_TTL_HOURS)")
        p.add_argument("--revoke", action="store_true", help="delete every token of the user instead")

    def do_token(self, *, user: str, expiry_hours: int | None, revoke: bool, **_) -> None:
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise fail(f"--user: no user {user!r}")
        if revoke:
            count = api_tokens_revoke(user=account)
            self.emit({"user": user, "revoked": count}, f"revoked {count} token(s) of {user}")
            return
        key = api_token_create(user=account, expiry_hours=expiry_hours)
        self.emit({"user": user, "token": key}, key)
