"""The moderation decisions act on Facebook, Instagram, X, YouTube, Bluesky and Mastodon
through their connectors: a source synced from each platform's loopback fake, a person's
decisions on a citizen's comment, and the outcome recorded as the platform answered
(done, or "not supported by the platform" where its API has no such action)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from beffroi.audit.services import Actor
from beffroi.connectors.http import RATE_GATE
from beffroi.items.models import Item
from beffroi.jobs.engine import run_job
from beffroi.jobs.models import Job
from beffroi.moderation.models import Decision
from beffroi.moderation.services import decide
from beffroi.sources.models import Source
from beffroi.sources.sync import sync_source
from tests.connectors.harnesses import HARNESSES

pytestmark = pytest.mark.django_db

DONE, UNSUPPORTED = Decision.PlatformStatus.DONE, Decision.PlatformStatus.UNSUPPORTED


#: Per platform: what each decision becomes there.
EXPECTED: dict[str, dict[str, str]] = {
    "facebook": {"hide": DONE, "reply": DONE, "report": UNSUPPORTED, "delete": DONE},
    "instagram": {"hide": DONE, "reply": DONE, "report": UNSUPPORTED, "delete": DONE},
    "x": {"hide": DONE, "reply": DONE, "report": UNSUPPORTED, "delete": UNSUPPORTED},
    "youtube": {"hide": DONE, "reply": DONE, "report": UNSUPPORTED, "delete": DONE},
    "bluesky": {"hide": DONE, "reply": DONE, "report": DONE, "delete": UNSUPPORTED},
    "mastodon": {"hide": UNSUPPORTED, "reply": DONE, "report": DONE, "delete": UNSUPPORTED},
}


@pytest.fixture(autouse=True)
def _open_gate() -> Iterator[None]:
    RATE_GATE.clear()
    yield
    RATE_GATE.clear()


def _changes(harness: Any) -> int:
    server = getattr(harness, "server", None)
    return sum(1 for r in getattr(server, "requests", []) if r.method != "GET")


@pytest.mark.parametrize("platform", sorted(EXPECTED))
def test_decisions_are_carried_out_on_the_platform(platform: str, org: Any, make_user: Any) -> None:
    start, expected = HARNESSES[platform], EXPECTED[platform]
    with ExitStack() as stack:
        harness = start(stack)
        harness.seed(8)
        connector = harness.connect()
        source = Source(
            organization=org, name=platform, platform=platform, settings=connector.settings
        )
        source.set_credentials(dict(connector.credentials))
        source.save()
        outcome = sync_source(source)
        assert outcome.created >= 4
        own = {
            str(connector.settings.get(key))
            for key in ("page_id", "ig_user_id", "user_id", "channel_id", "handle", "username")
            if connector.settings.get(key)
        }
        comment = (
            Item.objects.filter(source=source, kind__in=["comment", "reply"])
            .exclude(author__handle__in=own)
            .exclude(author__platform_id__in=own)
            .order_by("created_at")
            .first()
        )
        assert comment is not None, "the fake's seed has a citizen's comment"
        moderator = Actor(make_user("modo", org=org, role="moderator"), "ui")
        for action, wanted in expected.items():
            before = _changes(harness)
            decision = decide(
                moderator,
                comment,
                action,
                reply_text="Merci de rester courtois." if action == "reply" else "",
                note="Insulte (charte, article 2)" if action == "report" else "",
            )
            job = Job.objects.filter(
                name="moderation.platform_action", payload__decision_id=decision.pk
            ).get()
            assert run_job(job.pk) == "done"
            decision.refresh_from_db()
            assert decision.platform_status == wanted, (
                platform,
                action,
                decision.platform_result,
            )
            if wanted == DONE:
                assert _changes(harness) > before, f"{platform} {action}: nothing was sent"
            else:
                assert "Not supported by the platform" in decision.platform_result["detail"]
            comment.refresh_from_db()
