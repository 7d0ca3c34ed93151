"""What every command of the ``beffroi`` command line shares, the apps' command groups too.

The consoles (messages on standard error, results on standard output), Django's start, the
actor and the organization context of the operator at the command line, and the progress
bar. Django is imported only when a command asks for it, so that ``beffroi --help`` and the
commands that need no database stay quick.
"""

from __future__ import annotations

import getpass
import os
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from beffroi.audit.services import Actor
    from beffroi.organizations.context import OrgContext

#: Progress, messages and errors: standard error, so that results can be piped.
console = Console(stderr=True)
#: Results: standard output.
out = Console()


def setup_django() -> None:
    """Start Django with Beffroi's settings (the environment's DJANGO_SETTINGS_MODULE wins)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beffroi.web.settings")
    import django

    django.setup()


def operator_label() -> str:
    """How the audit trail names the operator: ``cli:`` and the system user's name."""
    return f"cli:{getpass.getuser()}"


def command_line_actor() -> Actor:
    """The operator, for a command that acts outside any one organization."""
    from beffroi.audit.models import AuditEvent
    from beffroi.audit.services import Actor

    return Actor(None, AuditEvent.Channel.CLI, operator_label())


def org_context(slug: str) -> OrgContext:
    """The operator acting in the organization ``slug``, or a clear error naming the known ones."""
    from beffroi.organizations.context import OrgContext
    from beffroi.organizations.models import Organization

    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        known = ", ".join(Organization.objects.values_list("slug", flat=True)) or "none"
        raise click.ClickException(f"No organization '{slug}'. Known: {known}.")
    return OrgContext.for_command_line(organization, operator_label())


def progress_bar() -> Progress:
    """A progress bar on standard error that stays once done: what, how far, how long."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
