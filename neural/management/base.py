"""Shared plumbing for the `neural`, `training` and `data` commands.

Every command: `--json` prints one JSON document on stdout; a bad argument or input is one line
on stderr and exit code 2; a failure at run time exits 1.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from neural.errors import EngineError, InputValidationError

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


class SubcommandCommand(BaseCommand):
    """A command with sub-commands: subclasses define ``subcommands = {name: (help, method name)}``
    and an ``add_<name>_arguments(parser)`` method for each."""

    subcommands: dict[str, str] = {}

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        for name, help_text in self.subcommands.items():
            p = sub.add_parser(name, help=help_text, description=help_text)
            p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
            getattr(self, f"add_{name.replace('-', '_')}_arguments", lambda _p: None)(p)

    def handle(self, *args, subcommand: str, **options) -> None:
        self.as_json = options["json"]
        try:
            getattr(self, f"do_{subcommand.replace('-', '_')}")(**options)
        except InputValidationError as exc:
            details = "; ".join(f"{name}: {problem}" for name, problem in exc.fields.items())
            raise CommandError(f"{exc.message}: {details}", returncode=EXIT_BAD_INPUT) from exc
        except EngineError as exc:
            raise CommandError(_naming_field(exc), returncode=EXIT_BAD_INPUT) from exc
        except OSError as exc:  # a full disk, a folder not writable: a failure at run time, one line
            where = f" ({exc.filename})" if exc.filename else ""
            raise CommandError(f"{exc.strerror or exc}{where}", returncode=EXIT_FAILED) from exc

    def emit(self, document: Any, text: str) -> None:
        """Print ``document`` as JSON when --json, else ``text`` for people."""
        if self.as_json:
            self.stdout.write(json.dumps(document, default=str))
        else:
            self.stdout.write(text)

    def progress(self, message: str) -> None:
        """Human progress goes to stderr, so stdout stays clean for --json."""
        sys.stderr.write(message + "\n")
        sys.stderr.flush()


def _naming_field(exc: EngineError) -> str:
    """The message, led by the field it is about when it does not say so itself."""
    field = getattr(exc, "field", None)
    if not field or field in exc.message or field.replace("_", "-") in exc.message:
        return exc.message
    return f"{field}: {exc.message}"


def fail(message: str, code: int = EXIT_BAD_INPUT) -> CommandError:
    return CommandError(message, returncode=code)
