"""`python manage.py neural ...`. Each area keeps its sub-commands in neural/management/cli/."""

from __future__ import annotations

from neural.management.base import SubcommandCommand
from neural.management.cli.accounts import AccountCommands
from neural.management.cli.crossval import CrossValidationCommands
from neural.management.cli.monitoring import MonitoringCommands
from neural.management.cli.operations import OperationsCommands
from neural.management.cli.registry import RegistryCommands
from neural.management.cli.search import SearchCommands
from neural.management.cli.training import TrainingCommands


class Command(
    OperationsCommands,
    TrainingCommands,
    CrossValidationCommands,
    SearchCommands,
    RegistryCommands,
    MonitoringCommands,
    AccountCommands,
    SubcommandCommand,
):
    help = "Models: train, status, activate, predict, and more (see each sub-command's --help)."
    subcommands = {
        **TrainingCommands.training_subcommands,
        **CrossValidationCommands.crossval_subcommands,
        **SearchCommands.search_subcommands,
        **RegistryCommands.registry_subcommands,
        **MonitoringCommands.monitoring_subcommands,
        **AccountCommands.account_subcommands,
        **OperationsCommands.operations_subcommands,
    }
