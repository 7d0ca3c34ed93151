"""What went wrong with a source, as a sentence in the reader's language.

A connector's error is the platform's (or the network's) own words, in English: it is kept
as written (``Source.last_error``, ``ConnectionAlert.message``) and shown apart, under the
sentence said here, for whoever needs the detail.
"""

from __future__ import annotations

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from beffroi.sources.forms import platform_label
from beffroi.sources.models import ConnectionAlert, Source


def source_problem(source: Source) -> str:
    """Why the last sync of ``source`` failed; empty when it did not."""
    if not source.last_error:
        return ""
    values = {"platform": platform_label(source.platform)}
    if source.status == Source.Status.AUTH_FAILED:
        return _("%(platform)s refused the account's access: reconnect the account.") % values
    if source.status == Source.Status.RATE_LIMITED:
        return _("%(platform)s asked to wait: Beffroi will read it again later.") % values
    return _("The last reading of %(platform)s failed.") % values


def alert_sentence(alert: ConnectionAlert) -> str:
    """A connection alert, said for the reader (the stored message is the platform's)."""
    values = {"source": alert.source.name, "platform": platform_label(alert.source.platform)}
    if alert.kind == ConnectionAlert.Kind.EXPIRING and alert.expires_at is not None:
        when = formats.date_format(timezone.localtime(alert.expires_at), "DATETIME_FORMAT")
        # The sentence ``credentials`` wrote in the organization's language, said again.
        return _(
            "The access of “%(source)s” to %(platform)s expires on %(date)s and cannot be "
            "renewed automatically."
        ) % (values | {"date": when})
    if alert.kind == ConnectionAlert.Kind.REFUSED:
        return (
            _(
                "%(platform)s refused the access of “%(source)s” (invalid, expired or revoked). "
                "Reconnect the account."
            )
            % values
        )
    return alert.message


def alert_detail(alert: ConnectionAlert) -> str:
    """The platform's own words, where the sentence does not already say everything."""
    return alert.message if alert.kind == ConnectionAlert.Kind.REFUSED else ""
