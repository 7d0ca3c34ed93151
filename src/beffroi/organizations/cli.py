"""``beffroi org …`` and ``beffroi user …``: the operator creates organizations and gives
people their role in one."""

from __future__ import annotations

import sys

import click

from beffroi.cli_support import command_line_actor, org_context, out, setup_django


@click.group()
def org() -> None:
    """Organizations."""


@org.command("create")
@click.argument("slug")
@click.argument("name")
@click.option("--kind", default="town_hall", show_default=True)
def org_create(slug: str, name: str, kind: str) -> None:
    """Create an organization."""
    setup_django()
    from django.core.exceptions import ValidationError

    from beffroi.organizations.services import create_organization

    try:
        created = create_organization(command_line_actor(), slug=slug, name=name, kind=kind)
    except ValidationError as exc:
        raise click.ClickException("; ".join(exc.messages)) from exc
    out.print(f"Created organization {created.slug}.")


@click.group()
def user() -> None:
    """People and their roles."""


@user.command("create")
@click.argument("username")
@click.option("--org", "org_slug", required=True)
@click.option(
    "--role",
    type=click.Choice(["admin", "moderator", "analyst", "publisher", "viewer"]),
    required=True,
)
@click.option("--email", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_create(username: str, org_slug: str, role: str, email: str, password_stdin: bool) -> None:
    """Create a user (or reuse one) and give them a role in an organization."""
    setup_django()
    import secrets

    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from beffroi.organizations.services import add_member, create_account

    context = org_context(org_slug)
    organization = context.organization
    person = get_user_model().objects.filter(username=username).first()
    shown = None
    if person is None:
        password = (
            sys.stdin.readline().rstrip("\n") if password_stdin else secrets.token_urlsafe(12)
        )
        try:
            validate_password(password)
        except ValidationError as exc:
            raise click.ClickException("; ".join(exc.messages)) from exc
        create_account(context.actor, organization, username, email, password, role)
        shown = None if password_stdin else password
    else:
        add_member(context.actor, organization, person, role)
    out.print(f"{username} is {role} of {organization.slug}.")
    if shown:
        out.print(f"Temporary password: {shown}")
    if role == "admin":
        out.print("Administrators set up two-factor authentication at their first login.")


def register_commands(cli: click.Group) -> None:
    """Add ``beffroi org`` and ``beffroi user`` (the :data:`beffroi.extensions.COMMANDS` hook)."""
    cli.add_command(org)
    cli.add_command(user)
