"""`python manage.py training ...`: start and watch training sessions."""

from __future__ import annotations

from neural.management.base import SubcommandCommand
from neural.management.cli.training import SessionCommands, add_train_arguments, run_train


class Command(SessionCommands, SubcommandCommand):
    help = "Training sessions: neural-train, status, logs."
    subcommands = {"neural-train": "Train a model on a stored data set.", **SessionCommands.session_subcommands}

    def add_neural_train_arguments(self, p) -> None:
        add_train_arguments(p)

    def do_neural_train(self, **options) -> None:
        run_train(self, options)
