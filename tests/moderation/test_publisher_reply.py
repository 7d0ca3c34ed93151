"""The publisher role answers authors in the organization's name, from the item page; the
item page's Escalate follows the one rule of escalation (to the administrators)."""

from __future__ import annotations

from typing import Any

import pytest

from beffroi.moderation.models import Case, Decision
from tests.moderation.test_views import SLUG, login, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def charter(org: Any) -> Any:
    from beffroi.charter.services import ensure_default_charter

    return ensure_default_charter(org)


def item_url(item: Any, tail: str = "") -> str:
    return f"/o/{SLUG}/items/{item.pk}/{tail}"


def test_a_publisher_sees_and_sends_a_reply_a_viewer_does_not(
    org: Any, source: Any, charter: Any, make_user: Any
) -> None:
    case = make_case(org, source, 1)
    item = case.item
    publisher = login(make_user("com", org=org, role="publisher"))
    viewer = login(make_user("elu", org=org, role="viewer"))
    reply_action = f"/o/{SLUG}/moderation/items/{item.pk}/reply/"
    html = publisher.get(item_url(item)).content.decode()
    assert reply_action in html and f"moderation/items/{item.pk}/decide/" not in html
    assert reply_action not in viewer.get(item_url(item)).content.decode()
    assert viewer.post(reply_action, {"reply_text": "Bonjour"}).status_code == 403
    response = publisher.post(reply_action, {"reply_text": "Bonjour, nous regardons."})
    assert response.status_code == 302
    reply = Decision.objects.get(item=item, action="reply")
    assert reply.reply_text == "Bonjour, nous regardons." and reply.actor == publisher.user  # type: ignore[attr-defined]
    assert reply.platform_status == "pending"
    case.refresh_from_db()
    assert case.state != "closed"  # a reply settles nothing
    # An empty reply is refused with a sentence.
    response = publisher.post(reply_action, {"reply_text": ""}, follow=True)
    assert "A reply needs a text." in [str(m) for m in response.context["messages"]]


def test_escalating_from_the_item_page_goes_to_the_administrators(
    org: Any, source: Any, charter: Any, make_user: Any
) -> None:
    case = make_case(org, source, 1)
    make_user("chef", org=org, role="admin")
    alice = login(make_user("alice", org=org, role="moderator"))
    response = alice.post(
        f"/o/{SLUG}/moderation/items/{case.item_id}/decide/", {"action": "escalate"}
    )
    assert response.status_code == 302
    escalation = Case.objects.get(kind="escalation")
    assert escalation.escalated_to is None and escalation.excluded_user == alice.user  # type: ignore[attr-defined]
