"""RSS and Atom feeds (news sites, alert feeds, fact-checkers), fetched with httpx and parsed
with feedparser.

A sync is one conditional ``GET`` of the feed's address (``url``) through
:class:`~beffroi.connectors.http.ApiClient`, with ``If-None-Match`` / ``If-Modified-Since``
from the cursor: a ``304 Not Modified`` means nothing new and costs the site almost nothing.
The body is parsed by feedparser (RSS 0.9x/2.0, RSS 1.0, Atom 1.0), never fetched by it (it is
given the bytes). Entries the feed lists are yielded oldest first as POSTs, in batches of
``BATCH_SIZE``, skipping those already seen: a feed re-lists its recent entries on every
fetch, so the cursor keeps the ids of the last ``SEEN_LIMIT`` entries yielded.

Redirects are followed here, not by httpx (``ApiClient`` has ``follow_redirects=False``):
up to ``MAX_REDIRECTS`` hops, http(s) only. A permanent one (301, 308) moves the feed: the new
address is kept in the cursor and asked directly from then on; a temporary one (302, 303, 307)
is followed for this fetch only.

Cursor: ``{"feed": <the url setting>, "url": <current address>, "etag", "modified",
"seen": [ids, oldest first]}``. Each batch's cursor adds its entries to ``seen``; only the last
batch carries the new ``etag``/``modified``, so a sync interrupted between batches asks for the
whole feed again and yields what it had not (nothing is lost, nothing repeated). When the
``url`` setting changes, the cursor starts afresh.

Errors: 404/410 → :class:`NotFound`, 401/403 → :class:`AuthError` (a private feed), 429 and
503 with ``Retry-After`` → :class:`RateLimited` (the site's address closed for that time), other
5xx and network failures → :class:`TransientError`, a body that is not a feed (an HTML page) →
:class:`MalformedPayload`. Messages name the feed without its query string, where private
feeds keep their key.

Mapping (:func:`map_entry`): the text is the title and the entry's ``content`` or ``summary``,
whichever says more (a WordPress excerpt is 100 characters of a 7,000-character article);
dates are read here (:func:`read_date`) before feedparser's guess is trusted; relative links
are resolved against the feed's address; the language is the entry's ``xml:lang``, else the
feed's, as a primary code (:func:`~beffroi.connectors.values.language_code`).

Feeds are read only: every action is "not supported by the platform". What a feed brings is
other sites' publications (listening), hence :attr:`FetchKind.SEARCH`; ``auth`` is
:attr:`AuthMethod.NONE` (public feeds; a feed whose address carries a key still needs nothing
else).
"""

from __future__ import annotations

import calendar
import hashlib
import io
import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser
import httpx

from beffroi.connectors.base import (
    Action,
    AuthError,
    AuthMethod,
    ConfigurationError,
    FetchBatch,
    FetchKind,
    ItemKind,
    MalformedPayload,
    Media,
    NormalizedAuthor,
    NormalizedItem,
    NotFound,
    Option,
    RateLimited,
    TransientError,
)
from beffroi.connectors.html_text import html_to_text
from beffroi.connectors.http import (
    DEFAULT_RATE_WAIT,
    ApiClient,
    HttpConnector,
    HttpOptions,
    Verdict,
    retry_after_seconds,
    token_key,
)
from beffroi.connectors.values import language_code, parse_time

if TYPE_CHECKING:
    from typing_extensions import Unpack

LABEL = "RSS / Atom feed"
#: Ids of entries already yielded that the cursor keeps (a feed lists tens, rarely hundreds).
SEEN_LIMIT = 500
BATCH_SIZE = 50
MAX_REDIRECTS = 5
USER_AGENT = "Beffroi feed reader (+https://github.com/beffroi)"

_PERMANENT = frozenset({301, 308})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5"
)
_MEDIA_KINDS = ("image", "video", "audio")

log = logging.getLogger(__name__)


def public_address(url: str) -> str:
    """``url`` without its query and fragment (where private feeds keep their key)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _feed_url(value: Any) -> str:
    url = str(value or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"{LABEL}: 'url' must be the http(s) address of a feed, such as "
            "https://www.example.org/feed.xml."
        )
    return url


def _classify(response: httpx.Response, where: str) -> Verdict:
    status = response.status_code
    if status < 400:
        return Verdict()
    if status in (404, 410):
        gone = "is gone" if status == 410 else "was not found"
        return Verdict(NotFound(f"{LABEL}: the feed {where} {gone} (HTTP {status})."))
    if status in (401, 403):
        return Verdict(
            AuthError(
                f"{LABEL}: the feed {where} refused access (HTTP {status}); it is private: "
                "check the address (and its key) in the source's settings."
            )
        )
    wait = retry_after_seconds(response.headers)
    if status == 429 or (status == 503 and wait is not None):
        wait = DEFAULT_RATE_WAIT if wait is None else wait
        return Verdict(
            RateLimited(f"{LABEL}: {where} asked to slow down (HTTP {status}).", wait), wait
        )
    if status >= 500:
        return Verdict(
            TransientError(f"{LABEL}: {where} failed (HTTP {status}); it will be retried.")
        )
    return Verdict(MalformedPayload(f"{LABEL}: {where} refused the request (HTTP {status})."))


# --- mapping -----------------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """feedparser's values (``struct_time`` dates, nested dicts) as plain JSON data."""
    if isinstance(value, time.struct_time):
        return _datetime(value).isoformat() if value else None
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _datetime(value: time.struct_time) -> datetime:
    """feedparser gives dates as UTC ``struct_time``."""
    return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)


def _plain(detail: Any, value: str) -> tuple[str, tuple[str, ...]]:
    """A text construct as plain text, and the links of its HTML."""
    kind = str(detail.get("type") or "") if isinstance(detail, Mapping) else ""
    if kind in ("text/plain", "text"):
        return value.strip(), ()
    return html_to_text(value)


def _body(entry: Mapping[str, Any]) -> tuple[str, tuple[str, ...], Any]:
    """The entry's fullest text: its ``content`` (the article) or its ``summary``, whichever
    says more, as plain text with its links and the text construct it came from."""
    candidates: list[tuple[str, Any]] = []
    for content in entry.get("content") or ():
        if isinstance(content, Mapping) and content.get("value"):
            candidates.append((str(content["value"]), content))
    if entry.get("summary"):
        candidates.append((str(entry["summary"]), entry.get("summary_detail")))
    best: tuple[str, tuple[str, ...], Any] | None = None
    for value, detail in candidates:  # content first: it wins a tie
        text, links = _plain(detail, value)
        # A body without words (a linked picture) still brings its links.
        if best is None or len(text) > len(best[0]):
            best = (text, links, detail)
    return best or ("", (), None)


# Day and month names of the languages whose feeds write RFC 822 dates in their own words
# (``mer, 16 nov 2022``); feedparser reads English names only.
_MONTHS = {
    "Jan": ("janv", "janvier", "gen", "gennaio", "ene", "enero", "januar", "jän", "jänner"),
    "Feb": ("févr", "fevr", "février", "fevrier", "febbraio", "febrero", "februar"),
    "Mar": ("mars", "marzo", "märz", "maerz", "mär", "mrz"),
    "Apr": ("avr", "avril", "aprile", "abr", "abril"),
    "May": ("mai", "maggio", "mag", "mayo"),
    "Jun": ("juin", "giugno", "giu", "junio", "juni"),
    "Jul": ("juil", "juillet", "luglio", "lug", "julio", "juli"),
    "Aug": ("août", "aout", "agosto", "ago"),
    "Sep": ("sept", "settembre", "set", "septiembre", "septembre"),
    "Oct": ("octobre", "ottobre", "ott", "octubre", "okt", "oktober"),
    "Nov": ("novembre", "noviembre", "november"),
    "Dec": (
        "déc",
        "dec",
        "décembre",
        "decembre",
        "dicembre",
        "dic",
        "diciembre",
        "dez",
        "dezember",
    ),
}
_MONTH_WORDS = {
    word: english for english, words in _MONTHS.items() for word in (english.lower(), *words)
}
_WORD = re.compile(r"[^\W\d_]+\.?")
_DAY_NAME = re.compile(r"^\s*[^\W\d_]+\.?\s*,?\s*(?=\d)")
_STRICT_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
)


def _aware(moment: datetime) -> datetime:
    """A date without an offset is taken as UTC (what feedparser does too)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _rfc822(value: str) -> datetime | None:
    """An RFC 822 date, its day and month names in English, French, Italian, Spanish or German."""

    def english(word: re.Match[str]) -> str:
        name = word.group().rstrip(".").lower()
        if name in _MONTH_WORDS:
            return _MONTH_WORDS[name]
        # A stray word goes; zones (``GMT``, ``CET``) stay.
        return word.group() if word.group().isupper() else ""

    # The day name (``mer,``, ``Dienstag,``) goes first: some are month names elsewhere (``mar``).
    without_day = _DAY_NAME.sub("", value)
    translated = _WORD.sub(english, without_day).strip(" ,")
    try:
        return _aware(parsedate_to_datetime(translated))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def read_date(value: str) -> datetime | None:
    """A feed's date string read strictly (ISO 8601, RFC 822 in English, French, Italian,
    Spanish or German, ``YYYY/MM/DD hh:mm:ss``), or ``None``."""
    value = value.strip()
    if not value:
        return None
    iso = parse_time(value)
    if iso is not None:
        return iso
    for pattern in _STRICT_FORMATS:
        try:
            return _aware(datetime.strptime(value, pattern))
        except ValueError:
            continue
    return _rfc822(value)


def _created(entry: Mapping[str, Any]) -> tuple[datetime | None, str]:
    """When the entry was published (else updated), and why not when it cannot be told.

    The date string is read here first: feedparser guesses at formats it does not know
    (``2020/1/10 14:33:00`` becomes 2020-12-01) and reads only English names; its reading is
    kept for the formats it knows and these do not (its other date handlers).
    """
    unread = ""
    for key in ("published", "updated"):
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        ours = read_date(value)
        if ours is not None:
            return ours, ""
        theirs = entry.get(f"{key}_parsed")
        if isinstance(theirs, time.struct_time):
            return _datetime(theirs), ""
        unread = unread or f"its date {value.strip()!r} could not be read"
    return None, unread or "it has no date"


def _language(entry: Mapping[str, Any], body_detail: Any, feed: Mapping[str, Any]) -> str | None:
    """The language of the entry's text (an Atom ``xml:lang`` on it), else of its feed."""
    for detail in (body_detail, entry.get("title_detail")):
        if isinstance(detail, Mapping) and (code := language_code(detail.get("language"))):
            return code
    return language_code(feed.get("language")) or language_code(feed.get("http_language"))


def entry_id(entry: Mapping[str, Any]) -> str:
    """The entry's id/guid, else its link, else a hash of its title and date."""
    for key in ("id", "link"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    seed = f"{entry.get('title') or ''}\0{entry.get('published') or entry.get('updated') or ''}"
    return "sha256:" + hashlib.sha256(seed.encode()).hexdigest()[:32]


def _date_string(entry: Mapping[str, Any]) -> str:
    return str(entry.get("published") or entry.get("updated") or "").strip()


def entry_ids(entries: list[Mapping[str, Any]]) -> list[str]:
    """:func:`entry_id` of each entry, made unique where a feed gives one guid to posts with
    different links (a CMS numbering from 1 in each category): those become
    ``<guid> <link>``, the link as the feed writes it. Posts sharing both guid and link but
    dated differently (a blog giving two posts of a day one anchor) become
    ``<guid> <date>``, the date as the feed writes it; the same guid, link and date is one
    post listed twice. Feeds whose guids are unique keep them as they are."""
    plain = [entry_id(entry) for entry in entries]
    links: defaultdict[str, set[str]] = defaultdict(set)
    dates: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for identifier, entry in zip(plain, entries, strict=True):
        link = str(entry.get("link") or "")
        links[identifier].add(link)
        dates[identifier, link].add(_date_string(entry))
    unique = []
    for identifier, entry in zip(plain, entries, strict=True):
        link = str(entry.get("link") or "")
        if len(links[identifier]) > 1 and link:
            identifier = f"{identifier} {link}"
        elif len(dates[identifier, link]) > 1 and _date_string(entry):
            identifier = f"{identifier} {_date_string(entry)}"
        unique.append(identifier)
    return unique


def _media(entry: Mapping[str, Any], base: str) -> list[Media]:
    found: dict[str, Media] = {}
    # feedparser's ``enclosures`` is computed from these links (and absent from stored dicts).
    enclosures = [e for e in entry.get("links") or () if e.get("rel") == "enclosure"]
    candidates = [(e.get("href"), e.get("type"), "") for e in enclosures]
    candidates += [
        (m.get("url"), m.get("type") or m.get("medium"), "")
        for m in entry.get("media_content") or ()
    ]
    for url, mime, description in candidates:
        if not isinstance(url, str) or not url:
            continue
        url = urljoin(base, url)
        mime = str(mime or "")
        kind = next((k for k in _MEDIA_KINDS if mime.startswith(k)), "other")
        found.setdefault(url, Media(kind, url, description))
    return list(found.values())


class _Pictures(HTMLParser):
    """The ``<img>`` addresses of an entry's HTML, without 1×1 tracking pixels."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if (
            tag == "img"
            and values.get("src")
            and "1" not in (values.get("width"), values.get("height"))
        ):
            self.sources.append(str(values["src"]).strip())


def _pictures(detail: Any) -> list[str]:
    """The pictures of an HTML body (a body of text/plain has none)."""
    if not isinstance(detail, Mapping) or str(detail.get("type") or "") in ("text/plain", "text"):
        return []
    parser = _Pictures()
    parser.feed(str(detail.get("value") or ""))
    parser.close()
    return parser.sources


def map_entry(
    entry: Mapping[str, Any],
    feed: Mapping[str, Any],
    feed_url: str,
    fetched_at: datetime,
    platform_id: str | None = None,
) -> NormalizedItem:
    """One feed entry (a feedparser dict) as a POST; ``raw`` keeps it and its feed's title.

    ``feed_url`` is the feed's address, against which relative links are resolved;
    ``platform_id`` is the entry's id among its feed's (:func:`entry_ids`), else
    :func:`entry_id`. An entry whose date cannot be read is dated ``fetched_at``, and ``raw``
    says so under ``"date_unread"``.
    """
    title = str(entry.get("title") or "").strip()
    title_text, _ = _plain(entry.get("title_detail"), title)
    body_text, html_links, body_detail = _body(entry)
    body_base = urljoin(feed_url, str(body_detail.get("base") or "")) if body_detail else feed_url
    body_links = [urljoin(body_base, url) for url in html_links]
    media = _media(entry, feed_url)
    if not body_text:
        # A post that is only a picture (a linked photo): the picture is what it says.
        known = {m.url for m in media}
        for source in _pictures(body_detail):
            url = urljoin(body_base, source)
            if url.startswith(("http://", "https://")) and url not in known:
                known.add(url)
                media.append(Media("image", url))
    text = "\n\n".join(part for part in (title_text, body_text) if part)
    identifier = platform_id or entry_id(entry)
    created, date_unread = _created(entry)
    if created is None:
        created = fetched_at
    feed_link = public_address(feed_url)
    if feed.get("link"):
        feed_link = urljoin(feed_url, str(feed["link"]))
    link = urljoin(feed_url, str(entry["link"])) if entry.get("link") else feed_link
    links = [
        urljoin(feed_url, str(item.get("href")))
        for item in entry.get("links") or ()
        if item.get("href")
    ]
    author_detail = entry.get("author_detail") or {}
    name = str(author_detail.get("name") or entry.get("author") or "").strip()
    feed_title = str(feed.get("title") or "").strip() or urlsplit(feed_url).netloc
    author_url = str(author_detail.get("href") or "")
    raw: dict[str, Any] = {
        "id": identifier,
        "entry": to_json(dict(entry)),
        "feed": {
            "title": feed_title,
            "link": feed_link,
            "url": public_address(feed_url),
            "language": feed.get("language"),
            "http_language": feed.get("http_language"),
        },
        "fetched_at": fetched_at.isoformat(),
    }
    if date_unread:
        raw["date_unread"] = f"{date_unread}; it is dated with the time the feed was read."
    return NormalizedItem(
        platform_id=identifier,
        kind=ItemKind.POST,
        text=text,
        created_at=created,
        author=NormalizedAuthor(
            platform_id=name or feed_link,
            handle=name or feed_title,
            display_name=name or feed_title,
            url=urljoin(feed_url, author_url) if author_url else feed_link,
            extra={"feed": feed_title},
        ),
        url=link,
        urls=tuple(dict.fromkeys(links + body_links)),
        media=tuple(media),
        language=_language(entry, body_detail, feed),
        raw=raw,
    )


# --- the connector -----------------------------------------------------------------------------


class FeedConnector(HttpConnector):
    """The entries of one RSS or Atom feed, as POSTs (listening).

    ``FeedConnector(settings, credentials, timeout=30.0, retries=2, backoff=0.5)``; see the
    module docstring for the conditional fetch, redirects and the cursor.
    """

    platform: ClassVar[str] = "rss"
    label: ClassVar[str] = LABEL
    fetches: ClassVar[frozenset[FetchKind]] = frozenset({FetchKind.SEARCH})
    actions: ClassVar[frozenset[Action]] = frozenset()
    auth: ClassVar[AuthMethod] = AuthMethod.NONE
    setup_doc: ClassVar[str] = "connectors/rss.md"
    not_supported: ClassVar[Mapping[str, str]] = {
        str(action): "A feed is read only: it can only be read, never answered or moderated."
        for action in Action
    }
    options: ClassVar[Mapping[str, Option]] = {
        "url": Option(
            label="Feed address",
            help="Address of the RSS or Atom feed, e.g. https://www.example.org/feed.xml",
        ),
    }

    def __init__(
        self,
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
        **http: Unpack[HttpOptions],
    ) -> None:
        super().__init__(settings, credentials, **http)
        self.url = _feed_url(settings.get("url"))

    def fetch(self, cursor: Mapping[str, Any]) -> Iterator[FetchBatch]:
        """Yield the feed's unseen entries oldest first (nothing on ``304 Not Modified``)."""
        state = dict(cursor) if cursor.get("feed") == self.url else {}
        address = str(state.get("url") or self.url)
        seen = [str(i) for i in state.get("seen") or () if isinstance(i, str)]
        headers = {"User-Agent": USER_AGENT, "Accept": _ACCEPT}
        if state.get("etag"):
            headers["If-None-Match"] = str(state["etag"])
        if state.get("modified"):
            headers["If-Modified-Since"] = str(state["modified"])
        response, address = self._get(address, headers)
        base = {"feed": self.url, "url": address}
        if response.status_code == 304:
            if address != state.get("url"):
                yield FetchBatch([], {**state, **base})
            return
        fetched_at = datetime.now(UTC)
        headers = dict(response.headers)
        # The feed's address (or the Content-Location the site sends) is the base of its
        # relative links. It is not given to feedparser, which would resolve guids with it
        # too and so change the ids of entries already stored: map_entry resolves the links.
        feed_address = urljoin(public_address(address), headers.get("content-location", ""))
        # A Content-Language is often a server default: feedparser would let it override the
        # feed's own <language>, so it is only the last resort.
        http_language = headers.pop("content-language", None)
        parsed = feedparser.parse(io.BytesIO(response.content), response_headers=headers)
        feed = {**parsed.feed, "http_language": http_language}
        entries = list(parsed.entries)
        if parsed.bozo and not entries and not parsed.feed.get("title"):
            raise MalformedPayload(
                f"{LABEL}: {public_address(address)} is not a feed (RSS or Atom) but "
                f"{response.headers.get('content-type') or 'an unknown document'}; check the "
                "address in the source's settings."
            )
        fresh: dict[str, NormalizedItem] = {}
        known = set(seen)
        ids = entry_ids(entries)
        for entry, identifier in reversed(list(zip(entries, ids, strict=True))):
            # feeds list the newest first
            item = map_entry(entry, feed, feed_address, fetched_at, identifier)
            if item.platform_id not in known and item.platform_id not in fresh:
                fresh[item.platform_id] = item
                if "date_unread" in item.raw:
                    log.warning(
                        "%s: entry %s of %s: %s",
                        LABEL,
                        item.platform_id,
                        public_address(address),
                        item.raw["date_unread"],
                    )
        items = sorted(fresh.values(), key=lambda item: item.created_at)
        validators = {
            "etag": response.headers.get("etag"),
            "modified": response.headers.get("last-modified"),
        }
        if not items:
            yield FetchBatch([], {**base, **validators, "seen": seen[-SEEN_LIMIT:]})
            return
        for start in range(0, len(items), BATCH_SIZE):
            batch = items[start : start + BATCH_SIZE]
            seen = (seen + [item.platform_id for item in batch])[-SEEN_LIMIT:]
            last = start + BATCH_SIZE >= len(items)
            kept = validators if last else {"etag": None, "modified": None}
            yield FetchBatch(batch, {**base, **kept, "seen": list(seen)})

    def map_item(self, raw: Mapping[str, Any], kind: ItemKind) -> NormalizedItem:
        """A stored entry (``raw`` as :func:`map_entry` keeps it) as a POST."""
        entry, feed = raw.get("entry"), raw.get("feed")
        if not isinstance(entry, Mapping) or not isinstance(feed, Mapping):
            raise MalformedPayload(f"{LABEL}: a stored entry has no 'entry' or 'feed'.")
        restored = dict(entry)
        for key in ("published_parsed", "updated_parsed"):
            value = restored.get(key)
            if isinstance(value, str):
                restored[key] = datetime.fromisoformat(value).utctimetuple()
        try:
            fetched_at = datetime.fromisoformat(str(raw.get("fetched_at")))
        except ValueError:
            fetched_at = datetime.now(UTC)
        address = str(feed.get("url") or feed.get("link") or self.url)
        identifier = raw.get("id") if isinstance(raw.get("id"), str) else None
        return map_entry(restored, feed, address, fetched_at, identifier)

    def _get(self, address: str, headers: Mapping[str, str]) -> tuple[httpx.Response, str]:
        """The feed's answer, after redirects, and its current permanent address."""
        where = public_address(self.url)
        with ApiClient(
            "",
            label=LABEL,
            key=token_key(self.platform, urlsplit(self.url).netloc),
            classify=lambda response: _classify(response, where),
            headers=headers,
            **self.http_options,
        ) as client:
            current, permanent = address, address
            for _ in range(MAX_REDIRECTS + 1):
                response = client.request("GET", current)
                if response.status_code not in _REDIRECTS:
                    return response, permanent
                location = response.headers.get("location")
                target = urljoin(current, location) if location else ""
                if urlsplit(target).scheme not in ("http", "https"):
                    raise MalformedPayload(
                        f"{LABEL}: {where} redirects to an address that is not http(s)."
                    )
                if response.status_code in _PERMANENT and current == permanent:
                    permanent = target
                current = target
        raise MalformedPayload(f"{LABEL}: {where} redirects more than {MAX_REDIRECTS} times.")
