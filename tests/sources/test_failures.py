"""One mapping of the connectors' errors, for a moderation decision carried out on the
platform and for a reply sent from the desk alike."""

from __future__ import annotations

import pytest

from beffroi.connectors.base import (
    AuthError,
    ConfigurationError,
    ConnectorError,
    MalformedPayload,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    Refused,
    TransientError,
    UnsupportedAction,
)
from beffroi.sources import failures
from beffroi.sources.failures import Failure, failure_of


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RateLimited("slow down", 120), Failure(failures.REASON_RATE_LIMITED, 120)),
        (RateLimited("slow down"), Failure(failures.REASON_RATE_LIMITED, 60)),
        (TransientError("502"), Failure(failures.REASON_OUTAGE, 30)),
        # A post whose answer was lost is never sent again by itself: it may be there.
        (OutcomeUnknown("timed out after sending"), Failure(failures.REASON_UNCONFIRMED)),
        (AuthError("revoked"), Failure(failures.REASON_CREDENTIALS)),
        (NotFound("gone"), Failure(failures.REASON_NOT_FOUND)),
        (Refused("does not accept messages"), Failure(failures.REASON_REFUSED)),
        (UnsupportedAction("no such action"), Failure(failures.REASON_UNSUPPORTED)),
        (MalformedPayload("not JSON"), Failure(failures.REASON_ERROR)),
        (ConfigurationError("missing"), Failure(failures.REASON_ERROR)),
        (ConnectorError("anything else"), Failure(failures.REASON_ERROR)),
    ],
)
def test_each_connector_error_is_one_reason_and_only_waits_are_retried(
    error: ConnectorError, expected: Failure
) -> None:
    assert failure_of(error) == expected
