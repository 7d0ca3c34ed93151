"""Why the platform did not do what a source's connector asked, the same for every action.

A moderation decision carried out on the platform and a reply sent from the desk both call a
connector and both keep, when it did not act, a ``reason`` (one of the words below, said in
a translated sentence on screen, the platform's own message kept beside it) and whether to
try again later (the platform asked to wait: a rate limit, an outage).
"""

from __future__ import annotations

from dataclasses import dataclass

from beffroi.connectors.base import (
    AuthError,
    ConnectorError,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    Refused,
    TransientError,
    UnsupportedAction,
)

#: The platform refused the account's credentials (revoked token, missing permission).
REASON_CREDENTIALS = "credentials"
#: What was acted on no longer exists on the platform, or is not visible to the account.
REASON_NOT_FOUND = "not_found"
#: The platform declined this action for a reason of its own (said in its words).
REASON_REFUSED = "refused"
#: Any other error the platform answered.
REASON_ERROR = "error"
#: The platform's API does not allow the action (or the connector does not do it).
REASON_UNSUPPORTED = "unsupported"
#: The item came from an imported file: no platform account to act from.
REASON_UPLOAD = "upload"
#: The platform asked to slow down; the action is tried again after the wait it gave.
REASON_RATE_LIMITED = "rate_limited"
#: The platform did not answer, or failed (5xx): the action is tried again soon.
REASON_OUTAGE = "outage"
#: A post was sent but its answer was lost (a timeout, a dropped connection, a 500/502/504):
#: the platform may have posted it. Never sent again by itself: a person checks.
REASON_UNCONFIRMED = "unconfirmed"

#: Seconds before trying again when a rate limit did not say how long to wait.
RATE_LIMIT_WAIT = 60.0
#: Seconds before trying again after an outage.
OUTAGE_WAIT = 30.0


@dataclass(frozen=True, slots=True)
class Failure:
    """Why the platform did not act, and when to ask again (``retry_after`` seconds; None:
    not by itself: a person decides)."""

    reason: str
    retry_after: float | None = None


def failure_of(error: ConnectorError) -> Failure:
    """The failure a connector's error stands for."""
    if isinstance(error, RateLimited):
        return Failure(REASON_RATE_LIMITED, error.retry_after or RATE_LIMIT_WAIT)
    if isinstance(error, OutcomeUnknown):
        # Only creates raise it (a reply, a report, a post): sending again could post twice.
        return Failure(REASON_UNCONFIRMED)
    if isinstance(error, TransientError):
        return Failure(REASON_OUTAGE, OUTAGE_WAIT)
    if isinstance(error, UnsupportedAction):
        return Failure(REASON_UNSUPPORTED)
    if isinstance(error, AuthError):
        return Failure(REASON_CREDENTIALS)
    if isinstance(error, NotFound):
        return Failure(REASON_NOT_FOUND)
    if isinstance(error, Refused):
        return Failure(REASON_REFUSED)
    return Failure(REASON_ERROR)
