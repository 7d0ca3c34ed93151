"""``beffroi veille …``: every veille detector run over an organization's new items now."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from beffroi.cli_support import org_context, out, progress_bar, setup_django

if TYPE_CHECKING:
    from beffroi.organizations.models import Organization


@click.group()
def veille() -> None:
    """Veille: spikes, narratives, claims, campaigns and impersonators."""


@veille.command("scan")
@click.option("--org", "org_slug", required=True, help="Organization slug.")
def veille_scan(org_slug: str) -> None:
    """Run every veille detector over the organization's new items now."""
    setup_django()
    scan_now(org_context(org_slug).organization)


def scan_now(org: Organization) -> None:
    """Scan the organization with a progress bar and print what was found (also run by
    ``beffroi demo``)."""
    from beffroi.veille.scan import scan

    with progress_bar() as progress:
        progress.add_task(
            "Veille: watches, claims, narratives, campaigns, impersonators", total=None
        )
        summary = scan(org)
    out.print(
        f"Veille: {summary.watch_hits} watch hits, {summary.claim_matches} claim matches, "
        f"{summary.narrated} items in narratives, {summary.campaigns} campaigns, "
        f"{summary.impersonators} impersonators, {summary.alerts} alerts."
    )


def register_commands(cli: click.Group) -> None:
    """Add ``beffroi veille`` (the :data:`beffroi.extensions.COMMANDS` hook)."""
    cli.add_command(veille)
