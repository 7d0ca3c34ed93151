"""``beffroi pause``: the crisis switch from the server's command line.

``beffroi pause --org SLUG --reason "…" [--account NAME | --label NAME]`` stops publishing
and returns once the pause is confirmed; ``--resume --id N`` or ``--resume --all`` ends
pauses; ``--list`` shows the active pauses and the periods planned without publishing.
Messages are in the organization's language; ``--json`` prints what happened for a script.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from beffroi.cli_support import console, org_context, out, setup_django

if TYPE_CHECKING:
    from beffroi.organizations.context import OrgContext
    from beffroi.publishing.models import Pause, PauseWindow


@contextmanager
def _in_language_of(ctx: OrgContext) -> Iterator[None]:
    from django.conf import settings
    from django.utils import translation

    with translation.override(ctx.organization.language or settings.LANGUAGE_CODE):
        yield


def _moment(value: datetime | None) -> str:
    """A time as the server's clock reads it, to the second."""
    from django.utils import timezone

    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z") if value else "—"


def _what(pause: Pause) -> str:
    from django.utils.translation import gettext as _

    if pause.source is not None:
        return _("the account %(name)s") % {"name": pause.source.name}
    if pause.label is not None:
        return _("the posts labelled %(label)s") % {"label": pause.label.name}
    return _("the whole organization")


def _pause_data(pause: Pause) -> dict[str, Any]:
    return {
        "id": pause.pk,
        "scope": pause.scope,
        "account": pause.source.name if pause.source is not None else None,
        "label": pause.label.name if pause.label is not None else None,
        "reason": pause.reason,
        "started_at": pause.started_at.isoformat(),
        "confirmed_at": pause.confirmed_at.isoformat() if pause.confirmed_at else None,
        "in_flight": pause.in_flight,
        "ended_at": pause.ended_at.isoformat() if pause.ended_at else None,
    }


def _window_data(window: PauseWindow) -> dict[str, Any]:
    return {
        "id": window.pk,
        "name": window.name,
        "starts_at": window.starts_at.isoformat(),
        "ends_at": window.ends_at.isoformat(),
        "reason": window.reason,
    }


def _say(text: str, *, to_stderr: bool = False) -> None:
    """A sentence as it is (names and reasons may hold brackets), on one line whatever the
    terminal's width, so that it can be searched and piped."""
    (console if to_stderr else out).print(text, markup=False, highlight=False, soft_wrap=True)


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


@click.command()
@click.option("--org", "org_slug", required=True, help="Organization slug.")
@click.option("--reason", default=None, help="Why publishing stops: everyone will read it.")
@click.option("--account", default=None, help="Pause only this account (its name).")
@click.option("--label", default=None, help="Pause only the posts with this label.")
@click.option("--resume", is_flag=True, help="End a pause (with --id) or every pause (--all).")
@click.option("--all", "every", is_flag=True, help="With --resume: end every active pause.")
@click.option("--id", "pause_id", type=int, default=None, help="With --resume: the pause to end.")
@click.option("--list", "listing", is_flag=True, help="Show the active pauses and the windows.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def pause(
    org_slug: str,
    reason: str | None,
    account: str | None,
    label: str | None,
    resume: bool,
    every: bool,
    pause_id: int | None,
    listing: bool,
    as_json: bool,
) -> None:
    """Stop publishing at once (the crisis switch), end a pause, or list the pauses.

    A pause returns once it is confirmed: from the time it prints, nothing more reaches a
    platform. Posts whose time comes during a pause are left unattempted for a person.
    """
    setup_django()
    ctx = org_context(org_slug)
    with _in_language_of(ctx):
        if listing:
            _list(ctx, as_json)
        elif resume:
            _resume(ctx, every, pause_id, as_json)
        else:
            _pause(ctx, reason, account, label, as_json)


def _list(ctx: OrgContext, as_json: bool) -> None:
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from beffroi.publishing.models import PauseWindow
    from beffroi.publishing.pausing import active_pauses

    pauses = active_pauses(ctx.organization.pk)
    windows = list(ctx.scoped(PauseWindow).filter(ends_at__gt=timezone.now()).order_by("starts_at"))
    if as_json:
        _print_json(
            {
                "pauses": [_pause_data(found) for found in pauses],
                "windows": [_window_data(window) for window in windows],
            }
        )
        return
    if not pauses:
        _say(_("Publishing is not paused."))
    for found in pauses:
        _say(
            _("Pause %(id)s: %(what)s, since %(time)s: %(reason)s")
            % {
                "id": found.pk,
                "what": _what(found),
                "time": _moment(found.confirmed_at or found.started_at),
                "reason": found.reason,
            }
        )
    for window in windows:
        _say(
            _("No publishing from %(start)s to %(end)s: %(name)s")
            % {
                "start": _moment(window.starts_at),
                "end": _moment(window.ends_at),
                "name": window.name,
            }
        )


def _resume(ctx: OrgContext, every: bool, pause_id: int | None, as_json: bool) -> None:
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from beffroi.publishing import services
    from beffroi.publishing.models import Pause
    from beffroi.publishing.pausing import active_pauses

    if every == (pause_id is not None):
        raise click.UsageError(_("With --resume, give --all or --id N."))
    if pause_id is None:  # --all
        chosen = active_pauses(ctx.organization.pk)
    else:
        found = ctx.scoped(Pause).filter(pk=pause_id).first()
        if found is None:
            raise click.ClickException(
                _("The organization has no pause %(id)s.") % {"id": pause_id}
            )
        chosen = [found]
    try:
        ended = [services.resume(ctx.actor, found) for found in chosen]
    except services.PublishingError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        _print_json({"resumed": [_pause_data(found) for found in ended]})
        return
    if not ended:
        _say(_("Publishing was not paused: nothing to end."))
        return
    _say(
        ngettext(
            "%(count)d pause ended.",
            "%(count)d pauses ended.",
            len(ended),
        )
        % {"count": len(ended)}
    )
    _say(
        _(
            "Posts whose time passed during the pause stay not attempted until someone "
            "publishes or reschedules each."
        ),
        to_stderr=True,
    )


def _pause(
    ctx: OrgContext, reason: str | None, account: str | None, label: str | None, as_json: bool
) -> None:
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    from beffroi.publishing import services
    from beffroi.publishing.models import PostLabel
    from beffroi.sources.models import Source

    if not (reason or "").strip():
        raise click.UsageError(
            _("Give --reason: everyone who opens the publishing desk will read it.")
        )
    if account is not None and label is not None:
        raise click.UsageError(_("Give --account or --label, not both."))
    source = found_label = None
    if account is not None:
        accounts = list(ctx.scoped(Source).filter(name=account)[:2])
        if len(accounts) != 1:
            known = ", ".join(ctx.scoped(Source).order_by("name").values_list("name", flat=True))
            message = (
                _("No account named %(name)s. Known: %(known)s.")
                if not accounts
                else _("Several accounts are named %(name)s: rename one first. Known: %(known)s.")
            )
            raise click.ClickException(message % {"name": account, "known": known or "—"})
        source = accounts[0]
    if label is not None:
        found_label = ctx.scoped(PostLabel).filter(name=label).first()
        if found_label is None:
            known = ", ".join(ctx.scoped(PostLabel).values_list("name", flat=True))
            raise click.ClickException(
                _("No label named %(name)s. Known: %(known)s.")
                % {"name": label, "known": known or "—"}
            )
    try:
        paused = services.pause(
            ctx.actor, ctx.organization, reason or "", source=source, label=found_label
        )
    except services.PublishingError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        _print_json({"paused": _pause_data(paused)})
        return
    _say(
        _(
            "Publishing paused for %(what)s (pause %(id)s). Confirmed at %(time)s: from then on "
            "nothing more goes out."
        )
        % {"what": _what(paused), "id": paused.pk, "time": _moment(paused.confirmed_at)}
    )
    if paused.in_flight:
        _say(
            ngettext(
                "%(count)d post was still being sent when the pause was confirmed: check it "
                "on its platform.",
                "%(count)d posts were still being sent when the pause was confirmed: check "
                "them on their platforms.",
                paused.in_flight,
            )
            % {"count": paused.in_flight},
            to_stderr=True,
        )
    else:
        _say(_("No post was still being sent at that time."))


def register_commands(cli: click.Group) -> None:
    """Add ``beffroi pause`` (the :data:`beffroi.extensions.COMMANDS` hook)."""
    cli.add_command(pause)
