"""What the platform modules of the fidelity run share: the code sets and patterns the checks
compare with, small accessors, and *check factories*, each returning a :class:`Check` whose
logic is written once and whose platform-specific part (what the platform sent) is an accessor
the module passes.

A factory keeps the check's name (the baseline's key) and takes the module's description, so
that the report still says what each platform checks in its own words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from beffroi.connectors.base import ItemKind, NormalizedItem
from tests.fidelity.model import Check, Outcome

#: An accessor: what one outcome's payload (or context) says, read by the module.
Sent = Callable[[Outcome], Any]

#: ISO 639-1 (the two-letter codes), what a stored language must be.
ISO_639_1 = frozenset(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv
    cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr
    ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw
    ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv
    ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr
    ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi
    yo za zh zu
    """.split()
)
#: Any HTML character entity, named or numeric, left in a text.
ENTITY = re.compile(r"&(?:[a-zA-Z][a-zA-Z0-9]{1,31}|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});")
#: The HTML entities X's checks look for (X escapes &, < and > in a post's text).
HTML_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|apos|nbsp|#\d+|#x[0-9a-f]+);", re.IGNORECASE)
#: A web address written in a text.
LINK = re.compile(r"https?://[^\s<>\"']+")

# --- X, read by the API (x), Zeeschuimer's capture (zeeschuimer) and 4CAT's export (fourcat) ---

#: X's obsolete codes and the ISO 639-1 code of the same language.
X_RENAMED = {"in": "id", "iw": "he"}
#: How a retweet's text starts.
RETWEET = re.compile(r"^RT @\w{1,15}: ")


def x_language(code: Any) -> str:
    """X's language code as ISO 639-1 names it (``in`` as ``id``)."""
    return X_RENAMED.get(str(code), str(code))


def is_x_status_link(url: Any, post_id: str | None) -> bool:
    """Whether ``url`` is the address of X's post ``post_id`` (a quote's link to what it quotes)."""
    return post_id is not None and bool(
        re.match(
            rf"https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[^/]+/status/{post_id}\b",
            str(url or ""),
        )
    )


# --- accessors ------------------------------------------------------------------------------


def mapped(outcome: Outcome) -> bool:
    return outcome.item is not None


def item_of(outcome: Outcome) -> NormalizedItem:
    """The item of an outcome a check applies to (mapped)."""
    assert outcome.item is not None
    found: NormalizedItem = outcome.item
    return found


def error_text(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def is_absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def text_links(text: str) -> list[str]:
    """The addresses written in a text, without the punctuation that ends a sentence."""
    return [link.rstrip(".,;:!?)]}…") for link in LINK.findall(text)]


def words(text: str) -> str:
    """A text's words, one space apart (no-break spaces and line breaks as spaces)."""
    return " ".join(text.replace("\xa0", " ").split())


def with_links(outcome: Outcome) -> bool:
    return mapped(outcome) and bool(outcome.item.urls)


def with_text(outcome: Outcome) -> bool:
    return mapped(outcome) and bool(outcome.item.text)


def _when(applies: Callable[[Outcome], Any]) -> Callable[[Outcome], bool]:
    """``applies`` on mapped outcomes only."""
    return lambda o: mapped(o) and bool(applies(o))


ANY: Any = object()  # carries(): a field not compared


def carries(
    outcome: Outcome,
    relation: str,
    *,
    platform_id: Any = ANY,
    text: Any = ANY,
    author: Any = ANY,
    url: Any = ANY,
    url_has: str | None = None,
) -> bool:
    """The item carries the post it reposts or quotes (``quoted``): its relation and each
    field given."""
    quoted = getattr(outcome.item, "quoted", None)
    return (
        quoted is not None
        and str(quoted.relation) == relation
        and (platform_id is ANY or quoted.platform_id == platform_id)
        and (text is ANY or quoted.text == text)
        and (author is ANY or quoted.author == author)
        and (url is ANY or quoted.url == url)
        and (url_has is None or url_has in str(quoted.url))
    )


# --- text ------------------------------------------------------------------------------------


def text_present(has_text: Sent, description: str, name: str = "text_present") -> Check:
    """The text is not empty where the record has text (``has_text``)."""
    return Check(
        name, description, passes=lambda o: bool(o.item.text.strip()), applies=_when(has_text)
    )


def text_full(sent_text: Sent, description: str) -> Check:
    """The text is the whole text sent (``sent_text``)."""
    return Check(
        "text_full",
        description,
        passes=lambda o: o.item.text == sent_text(o),
        applies=_when(sent_text),
    )


def no_html_entities(
    description: str,
    *,
    name: str = "no_html_entities",
    pattern: re.Pattern[str] = ENTITY,
    tags: re.Pattern[str] | None = None,
    texts: Callable[[Outcome], Iterable[str]] = lambda o: [o.item.text],
    applies: Callable[[Outcome], bool] = mapped,
) -> Check:
    """No HTML entity (``pattern``), nor tag (``tags``, where given), left in the texts."""
    return Check(
        name,
        description,
        passes=lambda o: (
            not any(
                pattern.search(text) or (tags is not None and tags.search(text))
                for text in texts(o)
            )
        ),
        applies=applies,
    )


def x_no_html_entities(description: str) -> Check:
    """No entity X escapes (&amp;, &lt;, &gt;…) is left in the text of a post from X."""
    return no_html_entities(
        description, name="text_has_no_html_entities", pattern=HTML_ENTITY, applies=with_text
    )


def no_html_in_text(tags: re.Pattern[str]) -> Check:
    """No HTML tag (``tags``) nor character entity is left in a text converted from HTML."""
    return no_html_entities(
        "No HTML tag or character entity is left in the text.",
        name="no_html_in_text",
        tags=tags,
        applies=with_text,
    )


# --- dates, authors, addresses ------------------------------------------------------------------


def created_at_is(
    name: str, description: str, sent_time: Callable[[Outcome], datetime | None], *, dated: bool
) -> Check:
    """created_at is the date sent; ``dated``: only where one was sent (else on every item)."""
    return Check(
        name,
        description,
        passes=lambda o: o.item.created_at == sent_time(o),
        applies=(lambda o: mapped(o) and sent_time(o) is not None) if dated else mapped,
    )


def author_present(
    description: str, *, author_id: Sent | None = None, applies: Callable[[Outcome], bool] = mapped
) -> Check:
    """The author has an id and a handle; the id is ``author_id`` where given."""
    return Check(
        "author_present",
        description,
        passes=lambda o: (
            bool(o.item.author.platform_id and o.item.author.handle)
            and (author_id is None or o.item.author.platform_id == author_id(o))
        ),
        applies=applies,
    )


def author_id_and_handle(
    description: str,
    *,
    author_id: Sent,
    handle: Sent,
    applies: Sent,
    display_name: Sent | None = None,
) -> Check:
    """The author's id, handle (and display name, where given) are those sent."""
    return Check(
        "author_id_and_handle",
        description,
        passes=lambda o: (
            o.item.author.platform_id == author_id(o)
            and o.item.author.handle == handle(o)
            and (display_name is None or o.item.author.display_name == display_name(o))
        ),
        applies=_when(applies),
    )


def x_post_url(description: str, *, screen_name: Sent, post_id: Sent, applies: Sent) -> Check:
    """The item's address is X's https://x.com/<screen_name>/status/<id>."""
    return Check(
        "post_url",
        description,
        passes=lambda o: o.item.url == f"https://x.com/{screen_name(o)}/status/{post_id(o)}",
        applies=_when(applies),
    )


def url_absolute(description: str, *, https: bool) -> Check:
    """The item's address is absolute (``https``: an https one)."""
    return Check(
        "url_absolute",
        description,
        passes=lambda o: (
            is_absolute(o.item.url) and (not https or o.item.url.startswith("https://"))
        ),
    )


def raw_kept() -> Check:
    return Check(
        "raw_kept",
        "The payload is kept verbatim as the item's raw.",
        passes=lambda o: dict(o.item.raw) == dict(o.payload),
    )


# --- links -----------------------------------------------------------------------------------


def links_absolute(
    description: str = "Every shared link is an absolute http(s) address.",
    *,
    links: Callable[[Outcome], Iterable[str]] = lambda o: o.item.urls,
    applies: Callable[[Outcome], bool] = with_links,
) -> Check:
    return Check(
        "links_absolute",
        description,
        passes=lambda o: all(is_absolute(url) for url in links(o)),
        applies=applies,
    )


def links_not_t_co(description: str, applies: Sent) -> Check:
    """No shared link is X's t.co wrapper, where the post shares a link that is not one."""
    return Check(
        "links_not_t_co",
        description,
        passes=lambda o: not any(host(u) == "t.co" for u in o.item.urls),
        applies=_when(applies),
    )


def links_kept(
    sent_links: Callable[[Outcome], Collection[str]], description: str, name: str = "links_kept"
) -> Check:
    """Every link sent is among the item's links."""
    return Check(
        name,
        description,
        passes=lambda o: all(link in o.item.urls for link in sent_links(o)),
        applies=_when(sent_links),
    )


def links_not_own_media(
    own_media: Callable[[Outcome], Iterable[Any]],
    description: str,
    name: str = "links_not_own_media",
) -> Check:
    """No link is an address of the record's own media."""
    return Check(
        name,
        description,
        passes=lambda o: not set(o.item.urls) & set(own_media(o)),
        applies=lambda o: mapped(o) and bool(list(own_media(o))),
    )


def links_not_quoted_post(quoted_post_links: Callable[[Outcome], Iterable[Any]]) -> Check:
    """The quoted post's address (``quoted_post_links``) that a quote's text holds is no link."""
    return links_not_own_media(
        quoted_post_links,
        "The quoted post's own address in a quote's text is not a shared link (quoted has it).",
        name="links_not_quoted_post",
    )


# --- media -----------------------------------------------------------------------------------


def media_kept(sent_media: Callable[[Outcome], list[Any]], description: str) -> Check:
    """As many media as the record sent (``sent_media``)."""
    return Check(
        "media_kept",
        description,
        passes=lambda o: len(o.item.media) == len(sent_media(o)),
        applies=_when(sent_media),
    )


def photo_is_the_image(
    sent_photos: Callable[[Outcome], list[str]],
    description: str,
    name: str = "photo_is_the_image",
) -> Check:
    """Every photo sent is an image medium at its address."""
    return Check(
        name,
        description,
        passes=lambda o: all(
            any(m.kind == "image" and m.url == photo for m in o.item.media)
            for photo in sent_photos(o)
        ),
        applies=_when(sent_photos),
    )


def video_is_the_file(
    sent_videos: Callable[[Outcome], list[Collection[Any]]],
    description: str,
    *,
    thumbnails: Callable[[Outcome], Collection[str]] | None = None,
) -> Check:
    """Every video sent (the files it may be, one for each) is a video medium at one of its
    files, and no medium is one of its ``thumbnails`` (where given)."""
    return Check(
        "video_is_the_file",
        description,
        passes=lambda o: (
            all(
                any(m.kind == "video" and m.url in files for m in o.item.media)
                for files in sent_videos(o)
            )
            and (thumbnails is None or not any(m.url in thumbnails(o) for m in o.item.media))
        ),
        applies=_when(sent_videos),
    )


def media_alt_text(sent_alts: Callable[[Outcome], list[str]], description: str) -> Check:
    """Every alt text sent is a medium's description."""
    return Check(
        "media_alt_text",
        description,
        passes=lambda o: all(
            any(m.description == alt for m in o.item.media) for alt in sent_alts(o)
        ),
        applies=_when(sent_alts),
    )


# --- language --------------------------------------------------------------------------------


def language_is_iso_639_1(
    description: str,
    *,
    name: str = "language_is_iso_639_1",
    language: Callable[[Outcome], str | None] = lambda o: o.item.language,
    applies: Callable[[Outcome], bool] = mapped,
) -> Check:
    """The language is None or an ISO 639-1 code."""
    return Check(
        name,
        description,
        passes=lambda o: (code := language(o)) is None or code in ISO_639_1,
        applies=applies,
    )


def language_kept(
    sent_language: Sent, description: str, *, applies: Callable[[Outcome], bool] | None = None
) -> Check:
    """The language sent is kept; by default where it is an ISO 639-1 code."""
    return Check(
        "language_kept",
        description,
        passes=lambda o: o.item.language == sent_language(o),
        applies=applies or (lambda o: mapped(o) and sent_language(o) in ISO_639_1),
    )


# --- replies and counts ----------------------------------------------------------------------


def reply_thread(sent_thread: Sent, is_reply: Sent, description: str) -> Check:
    """A reply's thread_id is the conversation sent, never its own id."""
    return Check(
        "reply_thread",
        description,
        passes=lambda o: (
            o.item.thread_id == sent_thread(o) and o.item.thread_id != o.item.platform_id
        ),
        applies=_when(is_reply),
    )


def reply_thread_not_itself(is_reply: Callable[[Outcome], bool]) -> Check:
    return Check(
        "reply_thread_not_itself",
        "A reply's thread_id is not its own id.",
        passes=lambda o: o.item.thread_id != o.item.platform_id,
        applies=is_reply,
    )


def reply_not_a_post(is_reply: Callable[[Outcome], bool], description: str) -> Check:
    return Check(
        "reply_not_a_post",
        description,
        passes=lambda o: o.item.kind != ItemKind.POST,
        applies=is_reply,
    )


def metrics_kept(
    sent_counts: Callable[[Outcome], Mapping[str, Any]], applies: Sent, description: str
) -> Check:
    """Every count sent is the item's metric of that name."""
    return Check(
        "metrics_kept",
        description,
        passes=lambda o: all(o.item.metrics.get(k) == v for k, v in sent_counts(o).items()),
        applies=_when(applies),
    )


def count_kept(
    name: str, description: str, metric: str, sent_count: Sent, applies: Sent = mapped
) -> Check:
    """One count sent (an int) is the item's ``metric``."""
    return Check(
        name,
        description,
        passes=lambda o: o.item.metrics.get(metric) == sent_count(o),
        applies=lambda o: mapped(o) and bool(applies(o)) and isinstance(sent_count(o), int),
    )


def repost_counts_not_originals(
    original_counts: Callable[[Outcome], Mapping[str, int]], is_repost: Sent, description: str
) -> Check:
    """A repost has none of the original's (non-zero) counts as its own."""
    return Check(
        "repost_counts_not_originals",
        description,
        passes=lambda o: (
            not any(o.item.metrics.get(name) == count for name, count in original_counts(o).items())
        ),
        applies=lambda o: mapped(o) and bool(is_repost(o)) and bool(original_counts(o)),
    )
