"""``beffroi moderation …``: the charter applied to what waits, the classifier retrained, the
DSA statements of reasons exported."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from beffroi.cli_support import console, org_context, out, progress_bar, setup_django

if TYPE_CHECKING:
    from beffroi.moderation.statements import LeftOut
    from beffroi.organizations.models import Organization


@click.group()
def moderation() -> None:
    """Apply the charter, retrain the classifier, export DSA statements of reasons."""


@moderation.command("run")
@click.option("--org", "org_slug", required=True, help="Organization slug.")
def moderation_run(org_slug: str) -> None:
    """Judge every item still waiting, by the organization's live charter."""
    setup_django()
    judge_waiting(org_context(org_slug).organization)


def judge_waiting(org: Organization) -> None:
    """Judge the organization's waiting items in batches, with a progress bar (also run by
    ``beffroi demo``, so that the queue is full when the server starts)."""
    from beffroi.items.models import Item
    from beffroi.moderation.services import ModerationOutcome, moderate_items

    pending = Item.objects.for_org(org).filter(state=Item.State.NEW).order_by("id")
    total = ModerationOutcome()
    with progress_bar() as progress:
        task = progress.add_task("Judging by the charter", total=pending.count())
        while True:
            batch = list(pending.select_related("source", "author")[:500])
            if not batch:
                break
            outcome = moderate_items(batch)
            for name in ("judged", "hidden", "queued", "kept", "shadow"):
                setattr(total, name, getattr(total, name) + getattr(outcome, name))
            progress.advance(task, len(batch))
            if Item.objects.filter(pk__in=[i.pk for i in batch], state=Item.State.NEW).exists():
                raise click.ClickException("The organization has no live charter to apply.")
    out.print(
        f"Judged {total.judged}: {total.hidden} hidden, {total.queued} queued for review, "
        f"{total.kept} kept; {total.shadow} shadow decisions recorded."
    )


@moderation.command("retrain")
@click.option("--org", "org_slug", required=True, help="Organization slug.")
def moderation_retrain(org_slug: str) -> None:
    """Retrain the classifier on the organization's decisions and activate it."""
    setup_django()
    from beffroi.moderation.learning import retrain

    org = org_context(org_slug).organization
    with console.status("Training"):
        version = retrain(org)
    out.print(
        f"Classifier {version.version} active: {version.trained_on} examples, "
        f"{version.decisions_used} of them the organization's decisions."
    )


def _say_left_out(left_out: list[LeftOut]) -> None:
    """On standard error, as the web export says it on its next page: how many statements
    were left out, then each decision and why."""
    count = len(left_out)
    if count == 1:
        heading = (
            "1 statement of reasons was left out of the export: the Transparency Database "
            "would refuse it."
        )
    else:
        heading = (
            f"{count} statements of reasons were left out of the export: the Transparency "
            "Database would refuse them."
        )
    # One line each, not wrapped, for grep.
    console.print(heading, style="yellow", markup=False, highlight=False, soft_wrap=True)
    for entry in left_out:
        console.print(
            f"  Decision #{entry.decision_id} ({entry.puid}): {' '.join(entry.problems)}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@moderation.command("statements")
@click.option("--org", "org_slug", required=True, help="Organization slug.")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json")
@click.option(
    "--sep",
    type=click.Choice(["comma", "semicolon"]),
    default="comma",
    help="CSV separator: semicolon for a spreadsheet set to French.",
)
def moderation_statements(org_slug: str, fmt: str, sep: str) -> None:
    """Print the DSA statements of reasons of the organization's restrictions."""
    setup_django()
    from beffroi.core.exports import DELIMITERS, write_csv
    from beffroi.moderation.statements import CSV_FIELDS, csv_row, export_statements

    context = org_context(org_slug)
    export = export_statements(context.actor, context.organization, fmt)
    if fmt == "json":
        click.echo(json.dumps(list(export.bodies()), ensure_ascii=False, indent=2))
    else:
        rows = (csv_row(body) for body in export.bodies())
        write_csv(sys.stdout, list(CSV_FIELDS), rows, DELIMITERS[sep])
    # After the bodies: those a decision changed while they were written join the list.
    if export.left_out:
        _say_left_out(export.left_out)
    if export.not_in_effect:
        # Said, not hidden: these restrictions did not take effect, so no statement.
        console.print(
            f"{export.not_in_effect} restriction(s) without a statement of reasons: not in "
            "effect on the platform (refused, still waiting, or not supported).",
            style="yellow",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def register_commands(cli: click.Group) -> None:
    """Add ``beffroi moderation`` (the :data:`beffroi.extensions.COMMANDS` hook)."""
    cli.add_command(moderation)
