"""``beffroi charter …``: a charter version to and from a YAML file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from beffroi.cli_support import org_context, setup_django


@click.group()
def charter() -> None:
    """The organization's usage charter (YAML export and import)."""


@charter.command("export")
@click.option("--org", "org_slug", required=True, help="Organization slug.")
@click.option(
    "--version", "number", type=int, default=None, help="Version number (default: the live one)."
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
def export_command(org_slug: str, number: int | None, output: Path | None) -> None:
    """Write a version of the charter as YAML."""
    setup_django()
    from beffroi.charter.models import CharterVersion
    from beffroi.charter.services import export_yaml

    versions = org_context(org_slug).scoped(CharterVersion)
    if number is not None:
        version = versions.filter(number=number).first()
        if version is None:
            known = ", ".join(str(n) for n in versions.values_list("number", flat=True)) or "none"
            raise click.ClickException(f"No version {number}. Known: {known}.")
    else:
        version = versions.filter(status=CharterVersion.Status.LIVE).first()
        if version is None:
            raise click.ClickException("No version is live: give --version.")
    text = export_yaml(version)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Version {version.number} written to {output}.", err=True)


@charter.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_slug", required=True, help="Organization slug.")
@click.option("--publish", is_flag=True, help="Publish the new version at once.")
def import_command(file: Path, org_slug: str, publish: bool) -> None:
    """Read a charter file into a new draft version (and publish it with --publish)."""
    setup_django()
    from django.core.exceptions import ValidationError

    from beffroi.charter import services
    from beffroi.charter.yaml_io import CharterFormatError

    context = org_context(org_slug)
    try:
        version = services.import_yaml(context.actor, context.organization, file.read_bytes())
    except CharterFormatError as exc:
        for problem in exc.problems:
            click.echo(f"{file}: {problem}", err=True)
        raise click.ClickException(f"{len(exc.problems)} problem(s): nothing imported.") from exc
    click.echo(f"Imported as draft version {version.number}.")
    if publish:
        try:
            services.publish(context.actor, version)
        except ValidationError as exc:
            raise click.ClickException("; ".join(exc.messages)) from exc
        click.echo(f"Version {version.number} is live.")


def register_commands(cli: click.Group) -> None:
    """Add ``beffroi charter`` (the :data:`beffroi.extensions.COMMANDS` hook)."""
    cli.add_command(charter)
