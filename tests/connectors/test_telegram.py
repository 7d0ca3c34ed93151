"""The Telegram connector: the web preview against a fake t.me, the API with Telethon's types."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telethon import errors
from telethon.tl import types

from beffroi.connectors.base import (
    Action,
    AuthError,
    ConfigurationError,
    Connector,
    ItemKind,
    ItemRef,
    MalformedPayload,
    Media,
    NormalizedItem,
    NotFound,
    QuotedItem,
    RateLimited,
    Refused,
    Relation,
    TransientError,
    UnsupportedAction,
)
from beffroi.connectors.http import RATE_GATE
from beffroi.connectors.telegram import (
    TelegramConnector,
    map_message,
    parse_channel_page,
    parse_channels,
    parse_views,
)
from tests.connectors.contract import ConnectorContract, DocumentedError, Harness
from tests.fakes.loopback import Reply
from tests.fakes.telegram_server import HTML, FakeTelegramWeb, render_contact_page
from tests.fakes.telethon_client import ME, NOW, StandInClient, person, telethon_message

CHANNELS = ("mairie_test", "prefecture_info")


@pytest.fixture(autouse=True)
def _open_gate() -> Iterator[None]:
    RATE_GATE.clear()
    yield
    RATE_GATE.clear()


@pytest.fixture
def server() -> Iterator[FakeTelegramWeb]:
    with FakeTelegramWeb(page_size=3) as fake:
        fake.add_channel("mairie_test", "Mairie de Test")
        fake.add_channel("prefecture_info", "Préfecture – Infos")
        yield fake


def connect(server: FakeTelegramWeb, **settings: str) -> TelegramConnector:
    return TelegramConnector(
        {"channels": " ".join(CHANNELS), "base_url": server.base_url, **settings},
        {},
        timeout=5,
        backoff=0.01,
    )


def drain(connector: Connector, cursor: Mapping[str, Any]) -> tuple[list[NormalizedItem], dict]:
    items: list[NormalizedItem] = []
    last = dict(cursor)
    for batch in connector.fetch(cursor):
        items.extend(batch.items)
        last = json.loads(json.dumps(dict(batch.cursor)))
    return items, last


# --- the contract ------------------------------------------------------------------------------


class TelegramWebHarness(Harness):
    max_requests = 30

    def __init__(self, server: FakeTelegramWeb) -> None:
        self.server = server
        self.turn = 0

    def connect(self) -> Connector:
        return connect(self.server)

    def seed(self, count: int) -> set[str]:
        ids = set()
        for _ in range(count):
            channel = CHANNELS[self.turn % 2]
            self.turn += 1
            post = self.server.post(channel, f"Annonce n°{self.turn}<br/>Deuxième ligne")
            ids.add(f"{channel}/{post.id}")
        return ids

    def interrupt_after(self, requests: int) -> None:
        self.server.fail_after(requests, status=502)

    def heal(self) -> None:
        self.server.heal()

    def errors(self) -> Mapping[str, DocumentedError]:
        server = self.server

        def private_channel() -> None:
            server.script(
                "/s/prefecture_info", Reply(302, raw=b"", headers={"Location": "/x"}), times=50
            )

        def rate_limited() -> None:
            server.script(
                "/s/",
                Reply(429, raw=b"Too Many Requests", headers={"Retry-After": "120"}),
                times=50,
            )

        def unavailable() -> None:
            server.script("/s/", Reply(502, raw=b"Bad Gateway", content_type=HTML), times=50)

        def not_a_preview() -> None:
            page = b"<html><body><h1>Welcome</h1></body></html>"
            server.script("/s/", Reply(200, raw=page, content_type=HTML), times=50)

        return {
            "channel private or unknown": DocumentedError(private_channel, NotFound),
            "rate limited": DocumentedError(rate_limited, RateLimited),
            "server error": DocumentedError(unavailable, TransientError),
            "markup changed": DocumentedError(not_a_preview, MalformedPayload),
        }

    def act(self, connector: Connector, action: Action) -> None:
        raise AssertionError("Telegram channels are read only")


class TestTelegramContract(ConnectorContract):
    @pytest.fixture
    def harness(self, server: FakeTelegramWeb) -> TelegramWebHarness:
        return TelegramWebHarness(server)


# --- the web preview ---------------------------------------------------------------------------


def test_a_post_is_read_from_its_markup(server: FakeTelegramWeb) -> None:
    server.post("prefecture_info", "Rien")
    server.post(
        "mairie_test",
        'Alerte <b>canicule</b> &amp; eau<br/>Infos : <a href="https://mairie.example/chaleur" '
        'target="_blank" rel="noopener">mairie.example</a> <a href="?q=%23alerte">#alerte</a>'
        '<br/><i class="emoji" style="background-image:url(\'//telegram.org/img/emoji/40/E29AA0.png\')">'
        "<b>⚠</b></i> Fin",
        views="12.7K",
        photos=["https://cdn4.telesco.pe/file/one.jpg", "https://cdn4.telesco.pe/file/two.jpg"],
        forwarded_from=("Météo-France", "https://t.me/meteofrance/812"),
        signature="Jeanne",
    )
    reply = server.post("mairie_test", "Suite", reply_to=1, views="401")
    items, cursor = drain(connect(server), {})
    by_id = {item.platform_id: item for item in items}
    first = by_id["mairie_test/1"]
    assert first.kind is ItemKind.POST
    assert first.text == "Alerte canicule & eau\nInfos : mairie.example #alerte\n⚠ Fin"
    assert first.urls == ("https://mairie.example/chaleur",)
    assert first.metrics == {"views": 12700}
    assert first.url == "https://t.me/mairie_test/1"
    assert first.media == (
        Media("image", "https://cdn4.telesco.pe/file/one.jpg"),
        Media("image", "https://cdn4.telesco.pe/file/two.jpg"),
    )
    assert first.author.handle == "mairie_test"
    assert first.author.display_name == "Mairie de Test"
    assert first.author.url == "https://t.me/mairie_test"
    assert first.author.extra == {"signature": "Jeanne"}
    assert first.created_at.tzinfo is not None
    assert first.raw["forwarded_from"] == {
        "name": "Météo-France",
        "url": "https://t.me/meteofrance/812",
    }
    assert first.raw["html"].startswith('<div class="tgme_widget_message text_not_supported_wrap')
    assert first.raw["html"].count("<div") == first.raw["html"].count("</div>")
    answer = by_id[f"mairie_test/{reply.id}"]
    assert answer.text == "Suite"  # not the quoted text of the reply header
    assert answer.parent_id == "mairie_test/1"
    assert answer.metrics == {"views": 401}
    assert by_id["prefecture_info/1"].author.display_name == "Préfecture – Infos"
    assert cursor == {"channels": {"mairie_test": 2, "prefecture_info": 1}}


def test_map_item_rebuilds_the_stored_payload(server: FakeTelegramWeb) -> None:
    server.post("mairie_test", "Bonjour")
    connector = connect(server)
    items, _ = drain(connector, {})
    stored = json.loads(json.dumps(dict(items[0].raw)))
    assert connector.map_item(stored, ItemKind.POST) == items[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("401", 401),
        ("1.2K", 1200),
        ("12.7K", 12700),
        ("1.1M", 1100000),
        ("2B", 2 * 10**9),
        ("", None),
        ("x", None),
    ],
)
def test_views(text: str, expected: int | None) -> None:
    assert parse_views(text) == expected


def test_first_sync_pages_back_to_the_history_window_and_replays_oldest_first(
    server: FakeTelegramWeb,
) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    for number in range(4):
        server.post("mairie_test", f"ancien {number}", date=old + timedelta(minutes=number))
    for number in range(7):
        server.post("mairie_test", f"récent {number}")
    connector = connect(server, channels="mairie_test", history_days="30")
    batches = list(connector.fetch({}))
    ids = [item.platform_id for batch in batches for item in batch.items]
    assert ids == [f"mairie_test/{n}" for n in range(5, 12)]
    assert [dict(b.cursor)["channels"]["mairie_test"] for b in batches] == [5, 8, 11]
    asked = [r.query for r in server.requests_to("GET", "/s/mairie_test")]
    assert asked == [{}, {"before": ["9"]}, {"before": ["6"]}]


def test_first_sync_with_nothing_recent_still_stores_where_to_read_on(
    server: FakeTelegramWeb,
) -> None:
    server.post("mairie_test", "ancien", date=datetime.now(UTC) - timedelta(days=90))
    items, cursor = drain(connect(server, channels="mairie_test"), {})
    assert items == []
    assert cursor == {"channels": {"mairie_test": 1}}
    server.post("mairie_test", "nouveau")
    items, _ = drain(connect(server, channels="mairie_test"), cursor)
    assert [i.platform_id for i in items] == ["mairie_test/2"]


def test_incremental_sync_walks_forward_within_the_page_budget(server: FakeTelegramWeb) -> None:
    server.post("mairie_test", "premier")
    _, cursor = drain(connect(server, channels="mairie_test"), {})
    for number in range(8):
        server.post("mairie_test", f"nouveau {number}")
    server.requests.clear()
    items, cursor = drain(connect(server, channels="mairie_test", max_pages="2"), cursor)
    assert [i.platform_id for i in items] == [f"mairie_test/{n}" for n in range(2, 8)]
    assert [r.query for r in server.requests] == [{"after": ["1"]}, {"after": ["4"]}]
    items, cursor = drain(connect(server, channels="mairie_test"), cursor)
    assert [i.platform_id for i in items] == ["mairie_test/8", "mairie_test/9"]
    assert cursor == {"channels": {"mairie_test": 9}}


def test_an_unknown_channel_is_named_after_the_others_are_read(server: FakeTelegramWeb) -> None:
    server.post("prefecture_info", "info")
    connector = connect(server, channels="nobody_here, prefecture_info")
    got: list[NormalizedItem] = []
    with pytest.raises(NotFound, match="nobody_here") as raised:
        for batch in connector.fetch({}):
            got.extend(batch.items)
    assert "prefecture_info" not in str(raised.value)
    assert [i.platform_id for i in got] == ["prefecture_info/1"]


def test_a_contact_page_without_history_is_not_found(server: FakeTelegramWeb) -> None:
    server.script(
        "/s/mairie_test",
        Reply(200, raw=render_contact_page("mairie_test").encode(), content_type=HTML),
    )
    with pytest.raises(NotFound, match="mairie_test"):
        drain(connect(server, channels="mairie_test"), {})


def test_a_post_without_date_is_malformed(server: FakeTelegramWeb) -> None:
    page = (
        '<section class="tgme_channel_history js-message_history"><div class="tgme_widget_message" '
        'data-post="mairie_test/3"><div class="tgme_widget_message_text js-message_text">x</div>'
        "</div></section>"
    )
    server.script("/s/mairie_test", Reply(200, raw=page.encode(), content_type=HTML))
    with pytest.raises(MalformedPayload, match="no date"):
        drain(connect(server, channels="mairie_test"), {})


def test_rate_limit_closes_the_gate_for_the_time_telegram_gave(server: FakeTelegramWeb) -> None:
    server.post("mairie_test", "x")
    server.script("/s/", Reply(429, raw=b"", headers={"Retry-After": "300"}))
    with pytest.raises(RateLimited) as raised:
        drain(connect(server), {})
    assert raised.value.retry_after == 300
    asked = len(server.requests)
    with pytest.raises(RateLimited):
        drain(connect(server), {})
    assert len(server.requests) == asked, "asked again during the window"


def test_the_parser_survives_badly_nested_markup() -> None:
    page = parse_channel_page(
        '<section class="tgme_channel_history"><div class="tgme_widget_message" data-post="a_b_c/7">'
        '<div class="tgme_widget_message_text js-message_text"><b>gras<i>mal</b> fermé</i>'
        '<br>suite</div><a class="tgme_widget_message_date"><time datetime="2024-05-01T10:00:00'
        '+00:00"></time></a></div></section>'
    )
    assert page.has_history
    [post] = page.posts
    assert post.payload()["text"] == "grasmal fermé\nsuite"
    assert post.payload()["datetime"] == "2024-05-01T10:00:00+00:00"


def _one_post(inner: str, post: str = "chan_test/9") -> NormalizedItem:
    """``inner`` (a post's bubble, as t.me/s writes it) mapped as a web sync maps it."""
    page = parse_channel_page(
        f'<section class="tgme_channel_history"><div class="tgme_widget_message" '
        f'data-post="{post}">{inner}<a class="tgme_widget_message_date" '
        f'href="https://t.me/{post}"><time datetime="2023-02-27T16:21:02+00:00"></time></a>'
        "</div></section>"
    )
    [parsed] = page.posts
    connector = TelegramConnector({"channels": post.split("/")[0]}, {})
    return connector.map_item(json.loads(json.dumps(parsed.payload())), ItemKind.POST)


def test_a_poll_keeps_its_question_and_options() -> None:
    # Recorded shape (any2feed's t.me/s capture): the poll was lost, the item had no text.
    item = _one_post(
        '<div class="tgme_widget_message_poll js-poll">'
        '<div class="tgme_widget_message_poll_question">Как лучше?</div>'
        '<div class="tgme_widget_message_poll_type">Anonymous Poll</div>'
        '<a class="tgme_widget_message_poll_options" href="https://t.me/chan_test/9">'
        '<div class="tgme_widget_message_poll_option"><div class="tgme_widget_message_poll_'
        'option_percent">16%</div><div class="tgme_widget_message_poll_option_value"><div '
        'class="tgme_widget_message_poll_option_text">Несколько постов</div></div></div>'
        '<div class="tgme_widget_message_poll_option"><div class="tgme_widget_message_poll_'
        'option_value"><div class="tgme_widget_message_poll_option_text">Один &amp; два</div>'
        "</div></div></a></div>"
    )
    assert item.text == "Как лучше?\n- Несколько постов\n- Один & два"
    assert item.raw["poll"] == {
        "question": "Как лучше?",
        "options": ["Несколько постов", "Один & два"],
    }


def test_a_voice_message_and_a_document_are_media() -> None:
    item = _one_post(
        '<a class="tgme_widget_message_voice_player js-message_voice_player" '
        'href="https://t.me/chan_test/9"><audio class="tgme_widget_message_voice '
        'js-message_voice" src="https://cdn4.telegram-cdn.org/file/e7.ogg?token=a"></audio></a>'
        '<a class="tgme_widget_message_document_wrap" href="https://t.me/chan_test/9">'
        '<div class="tgme_widget_message_document"><div class="tgme_widget_message_document_'
        'title accent_color">Отчёт\n  2023.pdf</div></div></a>'
    )
    assert item.media == (
        Media("audio", "https://cdn4.telegram-cdn.org/file/e7.ogg?token=a"),
        Media("other", "https://t.me/chan_test/9", "Отчёт 2023.pdf"),
    )


def test_the_video_of_a_link_preview_is_not_the_posts_media() -> None:
    item = _one_post(
        '<div class="tgme_widget_message_text js-message_text">Voir '
        '<a href="https://t.me/other_chan/5410">https://t.me/other_chan/5410</a></div>'
        '<a class="tgme_widget_message_link_preview" href="https://t.me/other_chan/5410">'
        '<div class="link_preview_video_player"><video class="link_preview_video" '
        'src="https://cdn4.telegram-cdn.org/file/0f.mp4"></video></div>'
        '<div class="link_preview_title">Other</div></a>'
    )
    assert item.media == ()
    assert item.urls == ("https://t.me/other_chan/5410",)


def test_a_forwarded_post_carries_the_original_as_a_repost() -> None:
    item = _one_post(
        '<div class="tgme_widget_message_forwarded_from">Forwarded from '
        '<a class="tgme_widget_message_forwarded_from_name" href="https://t.me/Source_Chan/10899">'
        '<span dir="auto">Старше Эдды</span></a></div>'
        '<div class="tgme_widget_message_text js-message_text">Кратко по фронту</div>'
    )
    assert item.quoted == QuotedItem(
        Relation.REPOST,
        "source_chan/10899",
        "Кратко по фронту",
        "Старше Эдды",
        "https://t.me/Source_Chan/10899",
    )
    hidden = _one_post(
        '<div class="tgme_widget_message_forwarded_from">Forwarded from <span class="tgme_'
        'widget_message_forwarded_from_name"><span dir="auto">Спортивный Екб</span></span></div>'
    )
    assert hidden.quoted == QuotedItem(Relation.REPOST, None, "", "Спортивный Екб", "")
    assert _one_post('<div class="tgme_widget_message_text js-message_text">x</div>').quoted is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("durov", ("durov",)),
        ("@Durov, https://t.me/s/telegram  t.me/durov", ("durov", "telegram")),
    ],
)
def test_channels_setting(value: str, expected: tuple[str, ...]) -> None:
    assert parse_channels(value) == expected


@pytest.mark.parametrize(
    ("settings", "credentials", "message"),
    [
        ({"channels": "bad name!"}, {}, "not a public channel"),
        ({}, {}, "channels"),
        ({"channels": "durov", "method": "mtproto"}, {}, "method"),
        ({"channels": "durov", "method": "api"}, {}, "api_id, api_hash, session"),
        ({"channels": "durov", "base_url": "http://t.me"}, {}, "https"),
        (
            {"channels": "durov", "method": "api", "api_id": "abc"},
            {"api_hash": "h", "session": "s"},
            "number",
        ),
    ],
)
def test_invalid_settings(settings: dict, credentials: dict, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        TelegramConnector(settings, credentials)


def test_reading_gives_no_moderation_action_and_the_web_preview_no_comment() -> None:
    connector = TelegramConnector({"channels": "durov"}, {})
    assert not any(connector.supports(action) for action in Action)
    with pytest.raises(UnsupportedAction, match="no moderation rights"):
        connector.hide(ItemRef("durov/1"))
    with pytest.raises(UnsupportedAction, match="needs the method 'api'"):
        connector.reply(ItemRef("durov/1"), "Bonjour")
    api = {"channels": "durov", "method": "api", "api_id": "1"}
    assert TelegramConnector.allows(Action.REPLY, api)
    assert not TelegramConnector.allows(Action.PRIVATE_REPLY, api)
    assert "nobody to answer in private" in TelegramConnector.not_supported["private_reply"]


# --- the API (Telethon) ------------------------------------------------------------------------


def photo() -> types.Photo:
    return types.Photo(id=5, access_hash=6, file_reference=b"\x01\x02", date=NOW, sizes=[], dc_id=2)


def test_map_message_reads_telethon_types() -> None:
    text = "🔥 Voir https://ex.fr/a et le site"
    start = len("🔥 Voir ".encode("utf-16-le")) // 2
    message = telethon_message(
        42,
        text,
        entities=[
            types.MessageEntityUrl(offset=start, length=len("https://ex.fr/a")),
            types.MessageEntityTextUrl(
                offset=start + 19, length=4, url="https://mairie.example/site"
            ),
        ],
        views=1500,
        forwards=3,
        replies=types.MessageReplies(replies=4, replies_pts=10),
        fwd_from=types.MessageFwdHeader(date=NOW, from_name="Météo-France"),
        media=types.MessageMediaPhoto(photo=photo()),
        post_author="Jeanne",
        reply_to=types.MessageReplyHeader(reply_to_msg_id=40),
    )
    item = map_message(message, "mairie_test", "Mairie de Test")
    assert item.platform_id == "mairie_test/42"
    assert item.kind is ItemKind.POST
    assert item.text == text
    assert item.created_at == NOW + timedelta(minutes=42)
    assert item.urls == ("https://ex.fr/a", "https://mairie.example/site")
    assert item.metrics == {"views": 1500, "forwards": 3, "replies": 4}
    assert item.media == (Media("image", "https://t.me/mairie_test/42"),)
    assert item.url == "https://t.me/mairie_test/42"
    assert item.parent_id == "mairie_test/40"
    assert item.author.display_name == "Mairie de Test"
    assert item.author.extra == {"signature": "Jeanne"}
    assert item.raw["message"]["fwd_from"]["from_name"] == "Météo-France"
    # A forward passes the original's text on: carried as a repost by its author's name.
    assert item.quoted == QuotedItem(Relation.REPOST, None, text, "Météo-France", "")
    json.dumps(dict(item.raw))
    connector = TelegramConnector({"channels": "mairie_test"}, {})
    stored = json.loads(json.dumps(dict(item.raw)))
    assert connector.map_item(stored, ItemKind.POST) == item


def test_map_message_reads_documents_and_web_pages() -> None:
    video = types.MessageMediaDocument(
        document=types.Document(
            id=1,
            access_hash=2,
            file_reference=b"",
            date=NOW,
            mime_type="video/mp4",
            size=10,
            dc_id=2,
            attributes=[],
        )
    )
    assert map_message(telethon_message(1, media=video), "chan_x").media == (
        Media("video", "https://t.me/chan_x/1"),
    )
    page = types.MessageMediaWebPage(
        webpage=types.WebPage(
            id=1, url="https://news.example/a", display_url="news.example/a", hash=0, title="A"
        )
    )
    item = map_message(telethon_message(2, media=page), "chan_x")
    assert item.media == (Media("link", "https://news.example/a", "A"),)
    assert item.urls == ("https://news.example/a",)


def test_map_message_reads_a_poll() -> None:
    def words(text: str) -> types.TextWithEntities:
        return types.TextWithEntities(text=text, entities=[])

    poll = types.MessageMediaPoll(
        poll=types.Poll(
            id=7,
            question=words("Quel jour pour le marché ?"),
            answers=[
                types.PollAnswer(text=words("Samedi"), option=b"0"),
                types.PollAnswer(text=words("Dimanche"), option=b"1"),
            ],
            hash=0,
        ),
        results=types.PollResults(),
    )
    item = map_message(telethon_message(3, "Votez !", media=poll), "chan_x")
    assert item.text == "Votez !\n\nQuel jour pour le marché ?\n- Samedi\n- Dimanche"
    assert item.quoted is None


def api_connector(client: StandInClient, **settings: str) -> TelegramConnector:
    connector = TelegramConnector(
        {"channels": "mairie_test", "method": "api", "api_id": "12345", **settings},
        {"api_hash": "0123456789abcdef", "session": "1BVtsOK-secret-session"},
        backoff=0.01,
    )
    connector.client_factory = lambda _connector: client  # type: ignore[assignment,misc]
    return connector


def test_api_fetch_reads_forward_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("beffroi.connectors.telegram.API_BATCH", 2)
    now = datetime.now(UTC)
    messages: list[Any] = [
        telethon_message(1, date=now - timedelta(days=60)),
        telethon_message(2, date=now - timedelta(hours=3)),
        types.MessageService(
            id=3,
            peer_id=types.PeerChannel(channel_id=1001),
            date=now - timedelta(hours=2),
            action=types.MessageActionPinMessage(),
        ),
        telethon_message(4, date=now - timedelta(hours=1)),
    ]
    client = StandInClient({"mairie_test": messages})
    batches = list(api_connector(client).fetch({}))
    assert [[i.platform_id for i in b.items] for b in batches] == [
        ["mairie_test/2"],
        ["mairie_test/4"],
    ]
    assert [dict(b.cursor) for b in batches] == [
        {"channels": {"mairie_test": 3}},
        {"channels": {"mairie_test": 4}},
    ]
    assert "offset_date" in client.calls[0] and client.calls[1]["min_id"] == 3
    assert batches[0].items[0].author.display_name == "Title of mairie_test"
    assert client.disconnected
    messages.append(telethon_message(5, date=now))
    client.calls.clear()
    items, cursor = drain(api_connector(client), {"channels": {"mairie_test": 4}})
    assert [i.platform_id for i in items] == ["mairie_test/5"]
    assert client.calls[0]["min_id"] == 4 and cursor == {"channels": {"mairie_test": 5}}


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (errors.FloodWaitError(request=None, capture=120), RateLimited),
        (errors.AuthKeyUnregisteredError(request=None), AuthError),
        (errors.SessionRevokedError(request=None), AuthError),
        (errors.ChannelPrivateError(request=None), NotFound),
        (errors.UsernameNotOccupiedError(request=None), NotFound),
        (errors.UsernameInvalidError(request=None), NotFound),
        (errors.ServerError(request=None, message="INTERNAL"), TransientError),
    ],
)
def test_api_errors_are_typed(error: Exception, expected: type[Exception]) -> None:
    client = StandInClient({"mairie_test": [telethon_message(1)]})
    client.fail = error
    with pytest.raises(expected) as raised:
        drain(api_connector(client), {"channels": {"mairie_test": 0}})
    assert "secret-session" not in str(raised.value)
    assert "0123456789abcdef" not in str(raised.value)
    if expected is RateLimited:
        assert raised.value.retry_after == 120  # type: ignore[attr-defined]
    if expected is AuthError:
        assert "session" in str(raised.value)


def test_api_unknown_channel_and_logged_out_session() -> None:
    client = StandInClient({"mairie_test": [telethon_message(1)]})
    with pytest.raises(NotFound, match="nobody_here"):
        drain(api_connector(client, channels="nobody_here"), {})
    with pytest.raises(AuthError, match="not logged in"):
        drain(api_connector(StandInClient({}, authorized=False)), {})


def test_the_real_client_is_built_from_the_session_string() -> None:
    from telethon import TelegramClient
    from telethon.crypto import AuthKey
    from telethon.sessions import StringSession

    from beffroi.connectors.telegram import telethon_client

    session = StringSession()
    session.set_dc(2, "149.154.167.51", 443)
    session.auth_key = AuthKey(b"\0" * 256)
    settings = {"channels": "durov", "method": "api", "api_id": "123"}
    connector = TelegramConnector(settings, {"api_hash": "abc", "session": session.save()})
    client = telethon_client(connector)
    assert isinstance(client, TelegramClient)
    assert client.flood_sleep_threshold == 0  # flood waits are handled by the connector
    broken = TelegramConnector(settings, {"api_hash": "abc", "session": "not-a-session"})
    with pytest.raises(ConfigurationError, match="session string is not valid") as raised:
        telethon_client(broken)
    assert "not-a-session" not in str(raised.value)


def test_api_reply_comments_under_the_post_in_its_discussion_group() -> None:
    client = StandInClient({"mairie_test": [telethon_message(7)]}, discussions={"mairie_test": 77})
    connector = api_connector(client)
    assert connector.supports(Action.REPLY) and not connector.supports(Action.PRIVATE_REPLY)
    result = connector.reply(ItemRef("mairie_test/7", ItemKind.POST), "Merci, c'est noté.")
    [(answered, comment)] = client.sent
    assert (answered, comment.message) == ("mairie_test/7", "Merci, c'est noté.")
    assert result.ok and result.platform_id == f"mairie_test/7?comment={comment.id}"
    assert result.url == f"https://t.me/mairie_test/7?comment={comment.id}"
    assert result.raw["peer_id"]["channel_id"] == 77
    assert client.disconnected
    with pytest.raises(UnsupportedAction, match="nobody to answer in private"):
        connector.private_reply(ItemRef("mairie_test/7"), "Bonjour")


@pytest.mark.parametrize(
    ("error", "expected", "words"),
    [
        (errors.ChatGuestSendForbiddenError(request=None), Refused, "must join"),
        (errors.ChatWriteForbiddenError(request=None), Refused, "may not write"),
        (errors.FloodWaitError(request=None, capture=42), RateLimited, "42 s"),
        (errors.SessionRevokedError(request=None), AuthError, "session"),
    ],
)
def test_api_reply_errors_are_typed_and_never_retried(
    error: Exception, expected: type[Exception], words: str
) -> None:
    client = StandInClient({"mairie_test": [telethon_message(7)]}, discussions={"mairie_test": 77})
    client.fail_send = error
    with pytest.raises(expected, match=words):
        api_connector(client).reply(ItemRef("mairie_test/7"), "Bonjour")
    assert not client.sent


def test_api_reply_to_a_post_without_comments_is_declined() -> None:
    client = StandInClient({"mairie_test": [telethon_message(7)]})
    with pytest.raises(Refused, match="no comments") as raised:
        api_connector(client).reply(ItemRef("mairie_test/7"), "Bonjour")
    assert "Telegram said: The message ID used in the peer was invalid" in str(raised.value)
    with pytest.raises(MalformedPayload, match="not a channel post"):
        api_connector(client).reply(ItemRef("not a post"), "Bonjour")


# --- the comments of a discussion group (method "api") -----------------------------------------

CITIZEN = person(501, "Lucie", "lucie_r")
NEIGHBOUR = person(502, "Marc")


def discussed(*posts: Any) -> StandInClient:
    """A channel with a discussion group (id 77), its posts published an hour ago or so."""
    return StandInClient({"mairie_test": list(posts)}, discussions={"mairie_test": 77})


def recent(number: int, **fields: Any) -> Any:
    return telethon_message(number, date=datetime.now(UTC) - timedelta(hours=10 - number), **fields)


def test_comments_are_read_with_their_author_parent_and_link() -> None:
    client = discussed(recent(1), recent(2))
    first = client.comment("mairie_test", 1, "La rue sera-t-elle fermée ?", CITIZEN)
    answer = client.comment("mairie_test", 1, "Oui, toute la journée.", NEIGHBOUR, answers=first.id)
    as_channel = client.comment(
        "mairie_test",
        1,
        "Fermée de 8 h à 18 h.",
        types.Channel(
            id=1001, title="Title of mairie_test", photo=types.ChatPhotoEmpty(), date=NOW
        ),
        answers=first.id,
    )
    items, cursor = drain(api_connector(client), {})
    by_id = {item.platform_id: item for item in items}
    assert [i.platform_id for i in items] == [
        "mairie_test/1",
        "mairie_test/2",
        f"mairie_test/1?comment={first.id}",
        f"mairie_test/1?comment={answer.id}",
        f"mairie_test/1?comment={as_channel.id}",
    ]
    comment = by_id[f"mairie_test/1?comment={first.id}"]
    assert comment.kind is ItemKind.COMMENT
    assert comment.text == "La rue sera-t-elle fermée ?"
    assert (comment.parent_id, comment.thread_id) == ("mairie_test/1", "mairie_test/1")
    assert comment.url == f"https://t.me/mairie_test/1?comment={first.id}"
    assert comment.author.platform_id == "501"
    assert comment.author.handle == "lucie_r"
    assert comment.author.display_name == "Lucie"
    assert comment.author.url == "https://t.me/lucie_r"
    assert comment.raw["message"]["peer_id"]["channel_id"] == 77  # the discussion group
    assert "phone" not in comment.raw["sender"]  # who wrote it, nothing more
    reply = by_id[f"mairie_test/1?comment={answer.id}"]
    assert reply.kind is ItemKind.REPLY
    assert reply.parent_id == f"mairie_test/1?comment={first.id}"
    assert reply.thread_id == "mairie_test/1"
    assert (reply.author.platform_id, reply.author.handle, reply.author.url) == ("502", "", "")
    # The channel commenting as itself is the author of its posts.
    assert by_id[f"mairie_test/1?comment={as_channel.id}"].author == by_id["mairie_test/1"].author
    assert cursor == {
        "channels": {"mairie_test": 2},
        "comments": {"mairie_test": {"1": as_channel.id}},
    }
    # A post without comments is not asked for any (its replies say so).
    assert [call.get("reply_to") for call in client.calls] == [None, None, 1]
    connector = api_connector(client)
    stored = json.loads(json.dumps(dict(reply.raw)))
    assert connector.map_item(stored, ItemKind.REPLY) == reply


def test_comments_are_read_incrementally_from_the_last_id() -> None:
    client = discussed(recent(1), recent(2))
    client.comment("mairie_test", 1, "Premier", CITIZEN)
    _, cursor = drain(api_connector(client), {})
    client.calls.clear()
    later = client.comment("mairie_test", 2, "Et ici ?", NEIGHBOUR)
    items, cursor = drain(api_connector(client), cursor)
    assert [i.platform_id for i in items] == [f"mairie_test/2?comment={later.id}"]
    # Post 1 has nothing new (replies.max_id is the one read): not asked again.
    assert [(c.get("reply_to"), c.get("min_id")) for c in client.calls] == [
        (None, 2),
        (None, None),
        (2, 0),
    ]
    newer = client.comment("mairie_test", 1, "Deuxième", NEIGHBOUR)
    client.calls.clear()
    items, cursor = drain(api_connector(client), cursor)
    assert [i.platform_id for i in items] == [f"mairie_test/1?comment={newer.id}"]
    assert client.calls[-1]["reply_to"] == 1 and client.calls[-1]["min_id"] < newer.id
    assert cursor["comments"] == {"mairie_test": {"1": newer.id, "2": later.id}}


def test_comment_batches_are_bounded_per_sync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("beffroi.connectors.telegram.API_BATCH", 2)
    client = discussed(recent(1))
    said = [client.comment("mairie_test", 1, f"n°{n}", CITIZEN).id for n in range(5)]
    connector = api_connector(client, max_pages="2")
    items, cursor = drain(connector, {})
    assert [i.platform_id for i in items] == ["mairie_test/1"] + [
        f"mairie_test/1?comment={n}" for n in said[:4]
    ]
    assert cursor["comments"] == {"mairie_test": {"1": said[3]}}
    items, cursor = drain(connector, cursor)
    assert [i.platform_id for i in items] == [f"mairie_test/1?comment={said[4]}"]


def test_comments_of_posts_older_than_the_window_are_no_longer_read() -> None:
    old = telethon_message(1, date=datetime.now(UTC) - timedelta(days=30))
    client = discussed(old, recent(2))
    client.comment("mairie_test", 1, "Toujours rien ?", CITIZEN)
    items, cursor = drain(api_connector(client), {"comments": {"mairie_test": {"1": 3}}})
    assert [i.platform_id for i in items] == ["mairie_test/2"]
    assert "comments" not in cursor
    assert all("reply_to" not in call for call in client.calls)


def test_a_flood_wait_while_reading_comments_is_rate_limited_after_the_posts() -> None:
    client = discussed(recent(1))
    client.comment("mairie_test", 1, "Bonjour", CITIZEN)
    client.fail_comments = errors.FloodWaitError(request=None, capture=300)
    batches = []
    with pytest.raises(RateLimited) as raised:
        for batch in api_connector(client).fetch({}):
            batches.append(batch)
    assert raised.value.retry_after == 300
    assert [[i.platform_id for i in b.items] for b in batches] == [["mairie_test/1"]]
    assert dict(batches[-1].cursor) == {"channels": {"mairie_test": 1}}


def test_a_post_whose_thread_is_gone_is_skipped() -> None:
    client = discussed(recent(1), recent(2))
    client.comment("mairie_test", 1, "Bonjour", CITIZEN)
    client.comment("mairie_test", 2, "Bonsoir", CITIZEN)
    # The channel unlinked its group since the comments were counted: MSG_ID_INVALID.
    del client.discussions["mairie_test"]
    items, cursor = drain(api_connector(client), {})
    assert [i.platform_id for i in items] == ["mairie_test/1", "mairie_test/2"]
    assert [c.get("reply_to") for c in client.calls] == [None, None, 1, 2]
    assert cursor == {"channels": {"mairie_test": 2}}


def test_the_accounts_own_comments_are_its_own_only_when_declared() -> None:
    client = discussed(recent(1))
    question = client.comment("mairie_test", 1, "Quand ?", CITIZEN)
    answer = client.comment("mairie_test", 1, "Lundi.", ME, answers=question.id, out=True)
    items, _ = drain(api_connector(client), {})
    # Undeclared, the account's answer would read as a citizen's: it is left out.
    assert [i.platform_id for i in items] == [
        "mairie_test/1",
        f"mairie_test/1?comment={question.id}",
    ]
    items, _ = drain(api_connector(client, user_id=str(ME.id)), {})
    mine = items[-1]
    assert mine.platform_id == f"mairie_test/1?comment={answer.id}"
    assert mine.author.platform_id == str(ME.id) and mine.kind is ItemKind.REPLY
    with pytest.raises(ConfigurationError, match="logs in the account 4242"):
        drain(api_connector(client, user_id="999"), {})
    with pytest.raises(ConfigurationError, match="numeric id"):
        api_connector(client, user_id="@mairie")


def test_api_reply_to_a_comment_answers_it_in_the_discussion_group() -> None:
    client = discussed(recent(7))
    question = client.comment("mairie_test", 7, "La rue est-elle fermée ?", CITIZEN)
    items, _ = drain(api_connector(client), {})
    comment = items[-1]
    ref = ItemRef(comment.platform_id, ItemKind.COMMENT, raw=json.loads(json.dumps(comment.raw)))
    result = api_connector(client).reply(ref, "Oui, lundi.")
    [(answered, sent)] = client.sent
    assert answered == f"mairie_test/7?comment={question.id}"
    assert sent.reply_to.reply_to_msg_id == question.id
    assert sent.reply_to.reply_to_top_id == 507  # in the post's thread
    assert result.platform_id == f"mairie_test/7?comment={sent.id}"
    assert result.url == f"https://t.me/mairie_test/7?comment={sent.id}"
    # The group the comment was read in is no longer the channel's: nothing is sent there.
    client.discussions["mairie_test"] = 78
    with pytest.raises(NotFound, match="no longer has"):
        api_connector(client).reply(ref, "Oui, lundi.")
    assert len(client.sent) == 1
