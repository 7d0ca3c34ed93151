"""The feed connector on feeds shaped as real sites send them (tests/fixtures/real/rss/):
a WordPress excerpt with the article in ``content:encoded``, an Italian feed with Italian
dates, an ASP.NET feed with slashed dates, relative links and a reused guid, and a Jekyll
Atom feed with relative links and ``xml:lang``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from beffroi.connectors.base import ItemKind, Media, NormalizedItem
from beffroi.connectors.http import RATE_GATE
from beffroi.connectors.rss import FeedConnector, read_date
from beffroi.connectors.values import language_code
from tests.fakes.feed_server import ATOM, RSS, FakeFeedSite
from tests.fakes.loopback import Reply

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "real" / "rss"


@pytest.fixture(autouse=True)
def _open_gate() -> Iterator[None]:
    RATE_GATE.clear()
    yield
    RATE_GATE.clear()


@pytest.fixture
def site() -> Iterator[FakeFeedSite]:
    with FakeFeedSite() as fake:
        yield fake


def read(site: FakeFeedSite, fixture: str, content_type: str = RSS) -> list[NormalizedItem]:
    """The items of ``fixture`` served at ``/feeds/news.xml``, and checks they survive storage."""
    site.script("/", Reply(200, raw=(FIXTURES / fixture).read_bytes(), content_type=content_type))
    connector = FeedConnector({"url": site.base_url + "/feeds/news.xml"}, {}, timeout=5)
    items = [item for batch in connector.fetch({}) for item in batch.items]
    for item in items:
        stored = json.loads(json.dumps(dict(item.raw)))
        assert connector.map_item(stored, ItemKind.POST) == item
    return items


def test_the_full_article_in_content_is_kept_over_the_excerpt(site: FakeFeedSite) -> None:
    [item] = read(site, "wordpress_excerpt.xml")
    assert "after a three-hour debate" in item.text
    assert "Works start in September." in item.text
    assert "[…]" not in item.text
    assert "https://council.example/minutes/2024-03-11" in item.urls
    assert item.language == "en"
    assert item.author.display_name == "Sam Reyes"


def test_dates_in_italian_are_read_and_an_unreadable_one_is_said(site: FakeFeedSite) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    items = read(site, "italian_dates.xml")
    dated = next(i for i in items if "biblioteca" in i.text)
    assert dated.created_at == datetime(2022, 11, 16, 9, 30, tzinfo=UTC)
    assert "date_unread" not in dated.raw
    undated = next(i for i in items if "Avviso" in i.text)
    assert undated.created_at >= before
    assert undated.raw["date_unread"] == (
        "its date 'il giorno dopo' could not be read; it is dated with the time the feed was read."
    )
    assert dated.language == "it"


def test_slashed_dates_relative_links_and_a_reused_guid(site: FakeFeedSite) -> None:
    items = read(site, "aspnet_slashed_dates.xml")
    # feedparser reads 2020/1/10 as 2020-12-01: both entries would share that date.
    assert [i.created_at for i in items] == [
        datetime(2020, 1, 9, 9, 5, tzinfo=UTC),
        datetime(2020, 1, 10, 14, 33, tzinfo=UTC),
    ]
    # Both posts carry <guid>1</guid>: neither is lost.
    assert [i.url for i in items] == [
        site.base_url + "/news/detail.aspx?id=117",
        site.base_url + "/news/detail.aspx?id=118",
    ]
    assert len({i.platform_id for i in items}) == 2
    # The link as the feed writes it: the id stays if the feed moves.
    assert items[1].platform_id == "1 /news/detail.aspx?id=118"
    assert items[1].media == (Media("image", site.base_url + "/media/118/map.jpg"),)
    assert items[1].author.url == site.base_url + "/news/"
    assert {i.language for i in items} == {"en"}


def test_atom_relative_links_and_xml_lang(site: FakeFeedSite) -> None:
    visit, market = reversed(read(site, "atom_xml_lang.xml", ATOM))
    assert visit.url == site.base_url + "/2024/05/02/twinning-visit.html"
    assert site.base_url + "/programme.html" in visit.urls
    assert visit.text == (
        "Twinning visit: our guests from Kent\n\nOur guests arrive on Friday. See the programme."
    )
    assert visit.language == "en"
    assert market.language == "fr"
    assert market.created_at == datetime(2024, 4, 20, 7, 0, tzinfo=UTC)
    # Atom ids are kept as written (resolving them would change stored entries' ids).
    assert market.platform_id == "/2024/04/20/marche"


def test_a_guid_repeated_with_the_same_link_stays_the_plain_guid(site: FakeFeedSite) -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<link>https://t.example/</link>"
        b"<item><title>A</title><link>https://t.example/a</link><guid>g-1</guid></item>"
        b"<item><title>A again</title><link>https://t.example/a</link><guid>g-1</guid></item>"
        b"</channel></rss>"
    )
    site.script("/", Reply(200, raw=body, content_type=RSS))
    connector = FeedConnector({"url": site.base_url + "/feed.xml"}, {}, timeout=5)
    items = [item for batch in connector.fetch({}) for item in batch.items]
    assert [i.platform_id for i in items] == ["g-1"]


def test_two_posts_sharing_guid_and_link_but_not_their_date_are_both_kept(
    site: FakeFeedSite,
) -> None:
    # As scripting.com's feed gave two posts of 2017-06-25 (tests/corpus/rss/).
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<link>https://t.example/</link>"
        b"<item><description>Dropbox could be the king of the one-page app.</description>"
        b"<link>https://t.example/2017/06/25.html#a080631</link>"
        b"<guid>https://t.example/2017/06/25.html#a080631</guid>"
        b"<pubDate>Sun, 25 Jun 2017 12:32:31 GMT</pubDate></item>"
        b"<item><description>Good morning Internet guzzlers!</description>"
        b"<link>https://t.example/2017/06/25.html#a080631</link>"
        b"<guid>https://t.example/2017/06/25.html#a080631</guid>"
        b"<pubDate>Sun, 25 Jun 2017 12:27:31 GMT</pubDate></item>"
        b"</channel></rss>"
    )
    site.script("/", Reply(200, raw=body, content_type=RSS))
    connector = FeedConnector({"url": site.base_url + "/feed.xml"}, {}, timeout=5)
    items = [item for batch in connector.fetch({}) for item in batch.items]
    assert [i.text for i in items] == [
        "Good morning Internet guzzlers!",
        "Dropbox could be the king of the one-page app.",
    ]
    assert [i.platform_id for i in items] == [
        "https://t.example/2017/06/25.html#a080631 Sun, 25 Jun 2017 12:27:31 GMT",
        "https://t.example/2017/06/25.html#a080631 Sun, 25 Jun 2017 12:32:31 GMT",
    ]


def test_the_picture_and_links_of_a_body_without_words_are_kept(site: FakeFeedSite) -> None:
    # A linked picture as the whole description (scripting.com, tests/corpus/rss/).
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<link>https://t.example/</link>"
        b"<item><title>Republican-inspired art</title><link>https://t.example/a</link>"
        b"<description>&lt;p&gt;&lt;a href=&quot;https://news.example/story&quot;&gt;"
        b"&lt;img src=&quot;/images/spicer.png&quot; alt=&quot;&quot;&gt;&lt;/a&gt;&lt;/p&gt;"
        b"</description></item></channel></rss>"
    )
    site.script("/", Reply(200, raw=body, content_type=RSS))
    connector = FeedConnector({"url": site.base_url + "/feed.xml"}, {}, timeout=5)
    [item] = [item for batch in connector.fetch({}) for item in batch.items]
    assert item.text == "Republican-inspired art"
    assert "https://news.example/story" in item.urls
    assert item.media == (Media("image", site.base_url + "/images/spicer.png"),)


def test_the_http_content_language_does_not_override_the_feeds_own(site: FakeFeedSite) -> None:
    body = (FIXTURES / "italian_dates.xml").read_bytes()
    site.script("/", Reply(200, raw=body, content_type=RSS, headers={"Content-Language": "en-US"}))
    connector = FeedConnector({"url": site.base_url + "/feed.xml"}, {}, timeout=5)
    items = [item for batch in connector.fetch({}) for item in batch.items]
    assert {i.language for i in items} == {"it"}


@pytest.mark.parametrize(
    ("value", "code"),
    [("en_US", "en"), ("en-us", "en"), ("FR-fr", "fr"), ("de", "de"), ("", None), ("*", None)],
)
def test_language_codes(value: str, code: str | None) -> None:
    assert language_code(value) == code


@pytest.mark.parametrize(
    ("value", "moment"),
    [
        ("2020/1/10 14:33:00", datetime(2020, 1, 10, 14, 33, tzinfo=UTC)),
        ("mer, 16 nov 2022 10:30:00 +0100", datetime(2022, 11, 16, 9, 30, tzinfo=UTC)),
        ("mar, 15 nov 2022 10:00:00 +0100", datetime(2022, 11, 15, 9, 0, tzinfo=UTC)),
        ("lun., 03 févr. 2025 09:15:00 +0100", datetime(2025, 2, 3, 8, 15, tzinfo=UTC)),
        ("Dienstag, 01 Okt 2024 12:00:00 +0200", datetime(2024, 10, 1, 10, 0, tzinfo=UTC)),
        ("miércoles, 4 dic 2024 10:00 +0100", datetime(2024, 12, 4, 9, 0, tzinfo=UTC)),
        ("Mon, 01 Jan 2024 10:00:00 GMT", datetime(2024, 1, 1, 10, 0, tzinfo=UTC)),
        ("2024-05-02T08:00:00+02:00", datetime(2024, 5, 2, 6, 0, tzinfo=UTC)),
        ("il giorno dopo", None),
    ],
)
def test_read_date(value: str, moment: datetime | None) -> None:
    assert read_date(value) == moment
