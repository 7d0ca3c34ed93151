"""A reply from the desk on every platform, through the real connectors against loopback fakes
that answer as each platform documents (errors too): publicly, and in private where the
platform allows it.

For each one: the citizen's comment is brought by a real sync, the conversation made by the
desk, and the reply sent by the sending job. Sent: the fake holds exactly one reply under the
comment (or one private message to its author), and the reply has its platform id and link.
Refused (the account's access revoked): failed with why, nothing posted, and a person's retry
sends it once. A worker that died during the call: never called again by itself (unknown);
a person confirms it was posted, or sends it again, and it is posted once. A rate limit: sent
later, after the wait the platform gave, once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

import pytest

from beffroi.audit.services import Actor
from beffroi.connectors.http import RATE_GATE
from beffroi.conversations import display, sending, services
from beffroi.conversations.models import Conversation, Reply
from beffroi.sources import failures
from beffroi.sources.models import Source
from beffroi.sources.sync import sync_source
from tests.fakes.loopback import Reply as FakeReply

pytestmark = pytest.mark.django_db

TEXT = "Bonjour, la rue rouvre lundi à 8 h."


class Platform:
    """One platform's fake, seeded with the organization's post and a citizen's comment, and
    what the fake holds of the account's answers."""

    name = ""
    #: Whether the platform lets the account answer a comment's author in private.
    private = True
    #: Whether a private answer can be declined by the person (and how the fake does it).
    declines = False

    def start(self, stack: ExitStack) -> None:
        raise NotImplementedError

    def source(self, org: Any) -> Source:
        source = Source(
            organization=org, name=self.name, platform=self.name, settings=self.settings()
        )
        source.set_credentials(self.credentials())
        source.save()
        return source

    def settings(self) -> dict[str, Any]:
        raise NotImplementedError

    def credentials(self) -> dict[str, Any]:
        raise NotImplementedError

    def replies(self, text: str) -> list[str]:
        """The platform ids each public answer holding ``text`` is under."""
        raise NotImplementedError

    def messages(self, text: str) -> list[str]:
        """Who each private message holding ``text`` went to."""
        raise NotImplementedError

    #: The platform id the public answer to the comment sits under, and the person a private
    #: answer goes to (set by :meth:`start`).
    parent = ""
    recipient = ""

    def revoke(self) -> None:
        """The account's access is refused from now on."""
        raise NotImplementedError

    def restore(self) -> None:
        """The account was connected again."""
        raise NotImplementedError

    def rate_limit(self, private: bool) -> float:
        """The next write answers the platform's rate limit; the wait it gives, in seconds."""
        raise NotImplementedError

    def decline(self) -> None:
        """The citizen does not accept private messages from the account."""
        raise NotImplementedError

    def lose_answer(self, private: bool) -> None:
        """The next write is done, then its answer is lost (the connection cut mid-answer)."""
        raise NotImplementedError


class Facebook(Platform):
    name = "facebook"
    declines = True

    def start(self, stack: ExitStack) -> None:
        from tests.fakes.graph_server import FakeGraph

        self.server = server = stack.enter_context(FakeGraph())
        post = server.add_post("Travaux rue Jean Jaurès lundi")
        self.parent = server.add_comment(post, "La rue sera-t-elle fermée ?")
        self.recipient = self.parent

    def settings(self) -> dict[str, Any]:
        return {"page_id": self.server.page_id, "base_url": self.server.base_url}

    def credentials(self) -> dict[str, Any]:
        return {"access_token": self.server.page_token}

    def replies(self, text: str) -> list[str]:
        return [c["parent"]["id"] for c in self.server.comments.values() if c["message"] == text]

    def messages(self, text: str) -> list[str]:
        sent = self.server.sent_messages
        return [m["recipient"]["comment_id"] for m in sent if m["text"] == text]

    def revoke(self) -> None:
        from tests.fakes.graph_server import VERSION, graph_error

        error = graph_error(190, "The session has been invalidated.", subcode=460)
        self.server.script(f"/{VERSION}/", error, times=50)

    def restore(self) -> None:
        self.server.heal()

    def rate_limit(self, private: bool) -> float:
        from tests.fakes.graph_server import VERSION, buc_usage, graph_error

        usage = buc_usage(self.server.page_id, 100, 3)
        error = graph_error(32, "(#32) Page request limit reached", headers=usage)
        self.server.script(f"/{VERSION}/", error)
        return 180.0

    def decline(self) -> None:
        self.server.private_replied.add(self.parent)  # answered in private already

    def lose_answer(self, private: bool) -> None:
        from tests.fakes.graph_server import VERSION

        path = f"{self.server.page_id}/messages" if private else f"{self.parent}/comments"
        self.server.truncate(f"/{VERSION}/{path}")


class Instagram(Facebook):
    name = "instagram"

    def start(self, stack: ExitStack) -> None:
        from tests.fakes.graph_server import FakeGraph

        self.server = server = stack.enter_context(FakeGraph())
        media = server.add_media("La fête du village samedi")
        self.parent = server.add_ig_comment(media, "À quelle heure ?")
        self.recipient = self.parent

    def settings(self) -> dict[str, Any]:
        return {"ig_user_id": self.server.ig_user_id, "base_url": self.server.base_url}

    def replies(self, text: str) -> list[str]:
        comments = self.server.ig_comments.values()
        return [c.get("parent_id", c["_media"]) for c in comments if c["text"] == text]

    def rate_limit(self, private: bool) -> float:
        from tests.fakes.graph_server import VERSION, buc_usage, graph_error

        usage = buc_usage(self.server.ig_user_id, 100, 3, kind="instagram")
        error = graph_error(80002, "There have been too many calls to this Instagram account.")
        self.server.script(f"/{VERSION}/", FakeReply(400, error.payload, usage))
        return 180.0


class X(Platform):
    name = "x"
    declines = True

    def start(self, stack: ExitStack) -> None:
        from tests.fakes.x_server import FakeX

        self.server = server = stack.enter_context(FakeX())
        self.citizen = server.add_user("citoyen", "Un citoyen")
        root = server.add_tweet("Travaux rue Jean Jaurès lundi", days_ago=1)
        comment = server.add_tweet(
            "La rue sera-t-elle fermée ?",
            author=self.citizen,
            in_reply_to=root["id"],
            days_ago=0.5,
        )
        self.parent, self.recipient = comment["id"], self.citizen["id"]

    def settings(self) -> dict[str, Any]:
        me = self.server.me
        return {"user_id": me["id"], "username": me["username"], "base_url": self.server.base_url}

    def credentials(self) -> dict[str, Any]:
        return {"access_token": self.server.token}

    def replies(self, text: str) -> list[str]:
        return [
            t["referenced_tweets"][0]["id"]
            for t in self.server.tweets.values()
            if t["author_id"] == self.server.me["id"] and t["text"].endswith(text)
        ]

    def messages(self, text: str) -> list[str]:
        return [e["participant_id"] for e in self.server.dm_events if e["text"] == text]

    def revoke(self) -> None:
        self.server.revoke_token()

    def restore(self) -> None:
        self.server.heal()

    def rate_limit(self, private: bool) -> float:
        self.server.rate_limit(1, reset_in=300, path="/2/dm_" if private else "/2/tweets")
        return 300.0

    def decline(self) -> None:
        self.server.refuse_dms(self.citizen)


class YouTube(Platform):
    name = "youtube"
    private = False

    def start(self, stack: ExitStack) -> None:
        from tests.fakes.youtube_server import FakeYouTube

        self.server = server = stack.enter_context(FakeYouTube())
        video = server.add_video()
        self.parent = server.add_comment(video, "La rue sera-t-elle fermée ?")

    def settings(self) -> dict[str, Any]:
        return {"base_url": self.server.base_url, "channel_id": self.server.channel_id}

    def credentials(self) -> dict[str, Any]:
        return {"access_token": self.server.token}

    def replies(self, text: str) -> list[str]:
        return [
            reply["snippet"]["parentId"]
            for thread in self.server.threads.values()
            for reply in thread.replies
            if reply["snippet"]["textOriginal"] == text
        ]

    def revoke(self) -> None:
        self.server.token_valid = False

    def restore(self) -> None:
        self.server.token_valid = True

    def rate_limit(self, private: bool) -> float:
        from tests.fakes.youtube_server import API, google_error

        error = google_error(
            429,
            "userRateLimitExceeded",
            "Rate Limit Exceeded",
            "usageLimits",
            headers={"Retry-After": "120"},
        )
        self.server.script(f"{API}/comments", error)
        return 120.0


class Bluesky(Platform):
    name = "bluesky"
    declines = True

    def start(self, stack: ExitStack) -> None:
        from beffroi.connectors.bluesky import forget_sessions
        from tests.fakes.bluesky_server import FakeBluesky

        forget_sessions()
        stack.callback(forget_sessions)
        self.server = server = stack.enter_context(FakeBluesky())
        post = server.add_post("Travaux rue Jean Jaurès lundi")
        self.alice = server.add_account("alice.bsky.social", "Alice")
        comment = server.add_post(
            "La rue sera-t-elle fermée ?", author=self.alice, reply_to=post["uri"]
        )
        self.parent, self.recipient = comment["uri"], self.alice.did

    def settings(self) -> dict[str, Any]:
        from tests.fakes.bluesky_server import OWN_HANDLE

        return {"handle": OWN_HANDLE, "base_url": self.server.base_url}

    def credentials(self) -> dict[str, Any]:
        from tests.fakes.bluesky_server import APP_PASSWORD

        return {"app_password": APP_PASSWORD}

    def replies(self, text: str) -> list[str]:
        posts = self.server.posts.values()
        return [p["record"]["reply"]["parent"]["uri"] for p in posts if p["record"]["text"] == text]

    def messages(self, text: str) -> list[str]:
        convos, own = self.server.convos, self.server.own.did
        return [
            did
            for message in self.server.messages
            if message["text"] == text
            for did in convos[message["convoId"]]["members"]
            if did != own
        ]

    def revoke(self) -> None:
        self.server.revoke()

    def restore(self) -> None:
        from tests.fakes.bluesky_server import APP_PASSWORD

        self.server.password = APP_PASSWORD

    def rate_limit(self, private: bool) -> float:
        from tests.fakes.bluesky_server import error

        nsid = "chat.bsky.convo.getConvoForMembers" if private else "com.atproto.repo.createRecord"
        reset = str(int(time.time()) + 240)
        headers = {"ratelimit-remaining": "0", "ratelimit-reset": reset}
        self.server.script(f"/xrpc/{nsid}", error(429, "RateLimitExceeded", "Too Many", **headers))
        return 240.0

    def decline(self) -> None:
        self.server.chat_refusals[self.alice.did] = "MessagesDisabled"


class Mastodon(Platform):
    name = "mastodon"

    def start(self, stack: ExitStack) -> None:
        from tests.fakes.mastodon_server import FakeMastodon

        self.server = server = stack.enter_context(FakeMastodon())
        self.alice = server.add_account("alice", display_name="Alice Martin")
        post = server.add_status("Travaux rue Jean Jaurès lundi", days_ago=2)
        comment = server.add_status(
            "La rue sera-t-elle fermée ?", account=self.alice, in_reply_to=post
        )
        self.parent, self.recipient = comment["id"], self.alice["id"]

    def settings(self) -> dict[str, Any]:
        return {"base_url": self.server.base_url}

    def credentials(self) -> dict[str, Any]:
        return {"access_token": self.server.token}

    def _answers(self, text: str, direct: bool) -> list[dict[str, Any]]:
        me = self.server.me["id"]
        return [
            s
            for s in self.server.statuses.values()
            if s["account_id"] == me
            and s["text"].endswith(text)
            and (s["visibility"] == "direct") is direct
        ]

    def replies(self, text: str) -> list[str]:
        return [s["in_reply_to_id"] for s in self._answers(text, direct=False)]

    def messages(self, text: str) -> list[str]:
        answers = self._answers(text, direct=True)
        # A private answer is in reply to the comment and addressed to its author only.
        assert all(s["in_reply_to_id"] == self.parent for s in answers)
        return [recipient for s in answers for recipient in s["mentions"]]

    def revoke(self) -> None:
        self.server.revoke_token()

    def restore(self) -> None:
        self.server.heal()

    def rate_limit(self, private: bool) -> float:
        self.server.rate_limit(1, reset_in=150, path_prefix="/api/v1/statuses")
        return 150.0


class Telegram(Platform):
    """A Telegram channel read with Telethon (method "api"): a citizen's comment in the
    channel's discussion group, answered there by the account (a stand-in for Telethon's
    client, over Telethon's own message types, as the connector's tests use)."""

    name = "telegram"
    private = False

    def start(self, stack: ExitStack) -> None:
        from beffroi.connectors.telegram import TelegramConnector
        from tests.fakes.telethon_client import StandInClient, person, telethon_message

        post = telethon_message(7, "Travaux rue Jean Jaurès lundi", date=datetime.now(UTC))
        self.client = client = StandInClient(
            {"mairie_test": [post]}, discussions={"mairie_test": 77}
        )
        comment = client.comment(
            "mairie_test", 7, "La rue sera-t-elle fermée ?", person(501, "Lucie", "lucie_r")
        )
        patch = pytest.MonkeyPatch()
        patch.setattr(TelegramConnector, "client_factory", staticmethod(lambda _c: client))
        stack.callback(patch.undo)
        self.parent = f"mairie_test/7?comment={comment.id}"

    def settings(self) -> dict[str, Any]:
        from tests.fakes.telethon_client import ME

        return {
            "channels": "mairie_test",
            "method": "api",
            "api_id": "12345",
            "user_id": str(ME.id),
        }

    def credentials(self) -> dict[str, Any]:
        return {"api_hash": "0123456789abcdef", "session": "1BVtsOK-secret-session"}

    def replies(self, text: str) -> list[str]:
        return [answered for answered, sent in self.client.sent if sent.message == text]

    def revoke(self) -> None:
        self.client.authorized = False

    def restore(self) -> None:
        self.client.authorized = True

    def rate_limit(self, private: bool) -> float:
        from telethon import errors

        self.client.fail_send = errors.FloodWaitError(request=None, capture=90)
        return 90.0


PLATFORMS: dict[str, type[Platform]] = {
    cls.name: cls for cls in (Facebook, Instagram, X, YouTube, Bluesky, Mastodon, Telegram)
}
#: Every platform publicly, and privately where it allows it.
CASES = [
    pytest.param((name, private), id=f"{name}-{'private' if private else 'public'}")
    for name, cls in PLATFORMS.items()
    for private in (False, True)
    if cls.private or not private
]


class Desk:
    """The organization's desk with one conversation: the citizen's comment, synced."""

    def __init__(self, platform: Platform, private: bool, org: Any, claire: Any) -> None:
        self.platform, self.private, self.actor = platform, private, Actor(claire, "ui")
        self.source = platform.source(org)
        outcome = sync_source(self.source)
        assert outcome.created >= 1, outcome
        services.attach_new_items(org)
        self.conversation = Conversation.objects.get(organization=org)
        assert self.conversation.kind == Conversation.Kind.PUBLIC
        assert self.conversation.root.platform_id == platform.parent

    def reply(self, key: str = "k1") -> Reply:
        return services.send_reply(
            self.actor, self.conversation, TEXT, key=key, private=self.private
        )

    def answers(self) -> list[str]:
        """Where the answers holding the reply's text went: under which item (public), to
        whom (private)."""
        return self.platform.messages(TEXT) if self.private else self.platform.replies(TEXT)

    @property
    def target(self) -> str:
        return self.platform.recipient if self.private else self.platform.parent


@pytest.fixture(autouse=True)
def _open_gate() -> Iterator[None]:
    RATE_GATE.clear()
    yield
    RATE_GATE.clear()


@pytest.fixture
def desk(request: pytest.FixtureRequest, org: Any, member: Callable[..., Any]) -> Iterator[Desk]:
    name, private = request.param
    platform = PLATFORMS[name]()
    with ExitStack() as stack:
        platform.start(stack)
        yield Desk(platform, private, org, member("claire"))


def _assert_posted_once(desk: Desk, reply: Reply) -> None:
    reply.refresh_from_db()
    assert reply.state == Reply.State.SENT, (reply.reason, reply.detail)
    assert desk.answers() == [desk.target], "exactly one answer, to the right place"
    assert reply.platform_id and reply.url.startswith(("https://", "http://"))
    desk.conversation.refresh_from_db()
    assert desk.conversation.state == Conversation.State.ANSWERED


@pytest.mark.parametrize("desk", CASES, indirect=True)
def test_a_reply_is_sent_once_with_its_link(desk: Desk) -> None:
    reply = desk.reply()
    assert reply.state == Reply.State.SENDING
    assert sending.send(reply.pk) == Reply.State.SENT
    _assert_posted_once(desk, reply)
    # The form sent twice, the job delivered twice: the same reply, posted once.
    assert desk.reply().pk == reply.pk
    assert sending.send(reply.pk) == Reply.State.SENT
    assert desk.answers() == [desk.target]


@pytest.mark.parametrize("desk", CASES, indirect=True)
def test_a_refused_access_fails_with_why_and_a_retry_sends_it_once(desk: Desk) -> None:
    reply = desk.reply()
    desk.platform.revoke()
    assert sending.send(reply.pk) == Reply.State.FAILED
    reply.refresh_from_db()
    assert reply.reason == failures.REASON_CREDENTIALS and reply.detail
    assert reply.retryable and not desk.answers()
    desk.source.refresh_from_db()
    assert desk.source.status == Source.Status.AUTH_FAILED  # the administrators are told
    # The account is connected again; a person sends the reply again.
    desk.platform.restore()
    RATE_GATE.clear()
    services.retry_reply(desk.actor, reply)
    assert sending.send(reply.pk) == Reply.State.SENT
    _assert_posted_once(desk, reply)


@pytest.mark.parametrize("desk", CASES, indirect=True)
def test_a_worker_that_died_after_the_platform_posted_never_posts_again(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = desk.reply()
    finish = sending._finish

    def die_once_posted(reply: Reply, state: str, **kwargs: Any) -> None:
        if state == Reply.State.SENT:
            raise SystemExit("the worker was killed before it wrote the platform's answer")
        finish(reply, state, **kwargs)

    monkeypatch.setattr(sending, "_finish", die_once_posted)
    with pytest.raises(SystemExit):
        sending.send(reply.pk)
    monkeypatch.setattr(sending, "_finish", finish)
    assert desk.answers() == [desk.target]
    # The job delivered again: the platform may have posted it (it did): not called again.
    assert sending.send(reply.pk) == Reply.State.UNKNOWN
    assert sending.send(reply.pk) == Reply.State.UNKNOWN
    reply.refresh_from_db()
    assert reply.reason == sending.REASON_INTERRUPTED and reply.retryable
    assert desk.answers() == [desk.target]
    # A person looked on the platform: it is there.
    services.confirm_reply_posted(desk.actor, reply, "https://example.org/seen-on-the-platform")
    reply.refresh_from_db()
    assert reply.state == Reply.State.SENT and desk.answers() == [desk.target]


@pytest.mark.parametrize("desk", CASES, indirect=True)
def test_a_worker_that_died_before_the_call_is_sent_again_by_a_person_once(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = desk.reply()

    def die(source: Source) -> Any:
        raise SystemExit("the worker was killed while it opened the connection")

    monkeypatch.setattr(sending, "ready_connector", die)
    with pytest.raises(SystemExit):
        sending.send(reply.pk)
    monkeypatch.undo()
    assert sending.send(reply.pk) == Reply.State.UNKNOWN
    assert not desk.answers()
    # A person looked on the platform: not there; they send it again.
    services.retry_reply(desk.actor, reply)
    assert sending.send(reply.pk) == Reply.State.SENT
    assert sending.send(reply.pk) == Reply.State.SENT  # the job delivered twice
    _assert_posted_once(desk, reply)


@pytest.mark.parametrize("desk", CASES, indirect=True)
def test_a_rate_limit_sends_it_later_after_the_platforms_wait_once(desk: Desk) -> None:
    reply = desk.reply()
    wait = desk.platform.rate_limit(desk.private)
    with pytest.raises(sending.SendLater) as later:
        sending.send(reply.pk)
    assert later.value.delay == pytest.approx(wait, abs=5)
    reply.refresh_from_db()
    assert reply.state == Reply.State.SENDING and reply.calling_since is None
    assert reply.reason == failures.REASON_RATE_LIMITED and not desk.answers()
    # The wait is over.
    if isinstance(desk.platform, Telegram):
        desk.platform.client.fail_send = None
    RATE_GATE.clear()
    assert sending.send(reply.pk) == Reply.State.SENT
    _assert_posted_once(desk, reply)


@pytest.mark.parametrize(
    "desk",
    [pytest.param((name, True), id=name) for name, cls in PLATFORMS.items() if cls.declines],
    indirect=True,
)
def test_a_private_answer_the_person_does_not_accept_is_refused_with_the_platforms_words(
    desk: Desk,
) -> None:
    desk.platform.decline()
    reply = desk.reply()
    assert sending.send(reply.pk) == Reply.State.FAILED
    reply.refresh_from_db()
    assert reply.reason == failures.REASON_REFUSED and reply.detail
    assert not desk.answers()
    desk.source.refresh_from_db()
    assert desk.source.status != Source.Status.AUTH_FAILED  # nothing to reconnect


@pytest.mark.parametrize(
    "desk",
    [pytest.param((name, True), id=name) for name, cls in PLATFORMS.items() if not cls.private],
    indirect=True,
)
def test_a_private_answer_where_the_platform_has_none_is_not_supported(desk: Desk) -> None:
    # Refused when asked, in words (the form does not offer it; the API may ask)...
    with pytest.raises(services.DeskError, match="does not allow answering in private"):
        desk.reply()
    assert not Reply.objects.exists()
    # ...and a private reply recorded anyway (the source changed since) fails when sent.
    desk.private = False
    reply = desk.reply()
    Reply.objects.filter(pk=reply.pk).update(private=True)
    assert sending.send(reply.pk) == Reply.State.FAILED
    reply.refresh_from_db()
    assert reply.reason == failures.REASON_UNSUPPORTED
    assert "Not supported by the platform" in reply.detail
    assert not desk.platform.replies(TEXT)


@pytest.mark.parametrize(
    "desk",
    [pytest.param(("facebook", p), id=f"facebook-{p}") for p in (False, True)],
    indirect=True,
)
def test_a_reply_posted_whose_answer_was_lost_is_unknown_and_never_sent_again(
    desk: Desk,
) -> None:
    reply = desk.reply()
    desk.platform.lose_answer(desk.private)
    assert sending.send(reply.pk) == Reply.State.UNKNOWN
    reply.refresh_from_db()
    assert reply.reason == failures.REASON_UNCONFIRMED and reply.detail
    assert reply.calling_since is None and reply.retryable
    assert desk.answers() == [desk.target], "posted once, not retried in the call"
    # The job delivered again: nothing is posted.
    assert sending.send(reply.pk) == Reply.State.UNKNOWN
    assert desk.answers() == [desk.target]
    view = display.reply_view(reply)
    assert "did not confirm the reply" in view.sentence and "Facebook" in view.sentence


@pytest.mark.parametrize("desk", [pytest.param(("telegram", False), id="telegram")], indirect=True)
def test_telegram_the_answer_read_back_is_the_organizations_and_reopens_nothing(
    desk: Desk,
) -> None:
    reply = desk.reply()
    assert sending.send(reply.pk) == Reply.State.SENT
    reply.refresh_from_db()
    # The next sync reads the account's comment back (the source declares the account).
    assert sync_source(desk.source).created == 1
    services.attach_new_items(desk.conversation.organization)
    desk.conversation.refresh_from_db()
    assert desk.conversation.state == Conversation.State.ANSWERED
    read_back = desk.conversation.items.get(platform_id=reply.platform_id)
    assert read_back.kind == "reply" and read_back.author.platform_id == "4242"
    assert Conversation.objects.filter(organization=desk.conversation.organization).count() == 1
