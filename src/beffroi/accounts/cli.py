"""``beffroi token …``: an API token issued to a person, from the command line."""

from __future__ import annotations

import click

from beffroi.cli_support import command_line_actor, setup_django


@click.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--user", "username", required=True)
@click.option("--name", default="cli", show_default=True)
@click.option("--expires-days", type=int, default=None)
def token_create(username: str, name: str, expires_days: int | None) -> None:
    """Create an API token; the key is printed once and only its hash is stored."""
    setup_django()
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from beffroi.accounts.services import issue_api_token

    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise click.ClickException(f"No user '{username}'.")
    expires = timezone.now() + timedelta(days=expires_days) if expires_days else None
    _token, key = issue_api_token(command_line_actor(), user, name, expires)
    click.echo(key)


def register_commands(cli: click.Group) -> None:
    """Add ``beffroi token`` (the :data:`beffroi.extensions.COMMANDS` hook)."""
    cli.add_command(token)
