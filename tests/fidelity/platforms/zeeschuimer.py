"""Zeeschuimer captures of X, through the file import (``parse_file``), and the field checks
of issue 13, item 8 (tests/corpus/zeeschuimer/).

No licence-compatible Zeeschuimer export was found (tests/corpus/zeeschuimer/*/SOURCE.md).
The corpus holds, verbatim, recorded answers of X's web GraphQL API (``TweetDetail``): the
answers Zeeschuimer's X module reads in the browser. :func:`capture` is that module's
``capture()`` (zeeschuimer ``modules/twitter.js``) in Python: it picks the posts out of an
answer as Zeeschuimer does, and each becomes the line Zeeschuimer exports
(``{"source_platform": "twitter.com", "item_id": ..., "data": <post>}``), written to an NDJSON
file and imported with :func:`~beffroi.connectors.fileimport.reading.parse_file`, one line
per file so that one record that breaks the import does not hide the others.

A line the import refuses (a ``RowError``) is not an exception: its outcome has no item and
``context["refused"]`` says why; the check ``refused_only_unavailable`` says whether the
refusal is one the import is expected to make.
"""

from __future__ import annotations

import html
import json
import re
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from beffroi.connectors.fileimport.reading import parse_file
from tests.fidelity.model import Check, Outcome
from tests.fidelity.platforms.x import HTML_ENTITY, ISO_639_1, X_RENAMED

PLATFORM = "zeeschuimer"
CORPUS = Path(__file__).resolve().parent.parent.parent / "corpus"
#: Zeeschuimer's module id for X, written as each exported line's ``source_platform``.
X_MODULE_ID = "twitter.com"


# --- Zeeschuimer's capture (modules/twitter.js) ------------------------------------------------


def _is_add_entries(child: Mapping[str, Any]) -> bool:
    has_type = "type" in child
    return (
        (has_type and child["type"] == "TimelineAddEntries") or (not has_type and len(child) == 1)
    ) and "entries" in child


def _entry_posts(entry: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    content = entry.get("content") or {}
    item_content = content.get("itemContent")
    if isinstance(item_content, Mapping):
        if "Cursor" in str(item_content.get("itemType") or ""):
            return
        results = item_content.get("tweet_results")
        if not results:
            return
        tweet = results.get("result")
        if not tweet or tweet.get("__typename") == "TweetUnavailable":
            return
        if "tweet" in tweet:  # TweetWithVisibilityResults
            tweet = tweet["tweet"]
        tweet = dict(tweet)
        tweet["id"] = tweet["legacy"]["id_str"]
        tweet["promoted"] = "promotedMetadata" in item_content
        yield tweet
    elif content.get("__typename") == "TimelineTimelineModule":
        # The replies shown under a post: kept as they are, with a numeric id (JavaScript's
        # parseInt of rest_id, which Beffroi does not read: it reads rest_id).
        for module_item in content.get("items") or []:
            inner = (module_item.get("item") or {}).get("itemContent") or {}
            if inner.get("__typename") not in ("Tweet", "TimelineTweet"):
                continue
            reply = inner["tweet_results"]["result"]
            rest_id = reply.get("rest_id")
            yield {**reply, "id": int(float(rest_id)) if rest_id else None}
    # Entries of the old "adaptive" format (globalObjects) do not occur in GraphQL answers.


def capture(response: Any) -> list[dict[str, Any]]:
    """The posts Zeeschuimer's X module takes from one answer of X's web API, in order."""
    posts: list[dict[str, Any]] = []

    def traverse(obj: Any) -> None:
        children = obj.values() if isinstance(obj, Mapping) else obj
        for child in children:
            if not child or not isinstance(child, Mapping | list):
                continue
            if isinstance(child, Mapping) and _is_add_entries(child):
                for entry in child["entries"]:
                    posts.extend(_entry_posts(entry))
            else:
                traverse(child)

    traverse(response)
    return posts


def export_lines(response: Any) -> list[dict[str, Any]]:
    """The lines Zeeschuimer exports for one answer: one per post id (it skips a post met
    again on the same page)."""
    lines: dict[str, dict[str, Any]] = {}
    for post in capture(response):
        item_id = str(_unwrap(post).get("rest_id") or post.get("id"))
        lines.setdefault(
            item_id, {"item_id": item_id, "source_platform": X_MODULE_ID, "data": post}
        )
    return list(lines.values())


def read(path: Path) -> Iterator[Outcome]:
    """Every post Zeeschuimer would capture from the recorded answer ``path``, imported."""
    relative = str(path.resolve().relative_to(CORPUS))
    response = json.loads(path.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="fidelity-zeeschuimer-") as folder:
        for index, line in enumerate(export_lines(response)):
            ref = str(line["item_id"])
            export = Path(folder) / f"{index}.ndjson"
            export.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
            try:
                report = parse_file(export)
            except Exception as exc:  # reported per record, so one does not hide the others
                yield Outcome(relative, ref, line, error=f"{type(exc).__name__}: {exc}")
                continue
            if report.errors:
                refused = "; ".join(error.reason for error in report.errors)
                yield Outcome(relative, ref, line, context={"refused": refused})
            else:
                yield Outcome(relative, ref, line, item=report.items[0].item)


# --- reading the payload (independently of the import) ----------------------------------------


def _tweet(outcome: Outcome) -> Mapping[str, Any]:
    data = outcome.payload.get("data")
    if isinstance(data, Mapping) and "rest_id" not in data and isinstance(data.get("tweet"), dict):
        data = data["tweet"]
    return data if isinstance(data, Mapping) else {}


def _unwrap(result: Any) -> Mapping[str, Any]:
    if isinstance(result, Mapping) and isinstance(result.get("tweet"), Mapping):
        result = result["tweet"]
    return result if isinstance(result, Mapping) else {}


def _legacy(tweet: Mapping[str, Any]) -> Mapping[str, Any]:
    legacy = tweet.get("legacy")
    return legacy if isinstance(legacy, Mapping) else {}


def _retweeted(outcome: Outcome) -> Mapping[str, Any]:
    return _unwrap((_legacy(_tweet(outcome)).get("retweeted_status_result") or {}).get("result"))


def _quoted_post(outcome: Outcome) -> Mapping[str, Any]:
    return _unwrap((_tweet(outcome).get("quoted_status_result") or {}).get("result"))


def _note(tweet: Mapping[str, Any]) -> Mapping[str, Any]:
    note = ((tweet.get("note_tweet") or {}).get("note_tweet_results") or {}).get("result")
    return note if isinstance(note, Mapping) else {}


def _whole_text(tweet: Mapping[str, Any]) -> str:
    """What a reader reads: a long post's note_tweet, else its full_text, unescaped."""
    text = _note(tweet).get("text") or _legacy(tweet).get("full_text") or ""
    return html.unescape(text) if isinstance(text, str) else ""


def _screen_name(tweet: Mapping[str, Any]) -> str:
    user = ((tweet.get("core") or {}).get("user_results") or {}).get("result") or {}
    for part in ("core", "legacy"):
        name = (user.get(part) or {}).get("screen_name")
        if isinstance(name, str) and name:
            return name
    return ""


def _read_post(outcome: Outcome) -> Mapping[str, Any]:
    """The post whose text and links a reader sees: a retweet's original."""
    return _retweeted(outcome) or _tweet(outcome)


def _link_entries(outcome: Outcome) -> list[Mapping[str, Any]]:
    post = _read_post(outcome)
    found = (_note(post).get("entity_set") or {}).get("urls") or (
        _legacy(post).get("entities") or {}
    ).get("urls")
    return [entry for entry in found or [] if isinstance(entry, Mapping)]


def _quoted_id(outcome: Outcome) -> str | None:
    quoted = _quoted_post(outcome)
    found = quoted.get("rest_id") or _legacy(_tweet(outcome)).get("quoted_status_id_str")
    return str(found) if found else None


def _is_quoted_post_link(outcome: Outcome, entry: Mapping[str, Any]) -> bool:
    """The quoted post's own address, which X puts in a quote's text (the quote carries it)."""
    quoted_id = _quoted_id(outcome)
    return quoted_id is not None and bool(
        re.match(
            rf"https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/[^/]+/status/{quoted_id}\b",
            str(entry.get("expanded_url") or ""),
        )
    )


def _shared_link_entries(outcome: Outcome) -> list[Mapping[str, Any]]:
    return [
        e
        for e in _link_entries(outcome)
        if isinstance(e.get("expanded_url"), str) and not _is_quoted_post_link(outcome, e)
    ]


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _own_media(outcome: Outcome) -> list[Mapping[str, Any]]:
    legacy = _legacy(_tweet(outcome))
    found = (legacy.get("extended_entities") or {}).get("media") or (
        legacy.get("entities") or {}
    ).get("media")
    return [entry for entry in found or [] if isinstance(entry, Mapping)]


def _mp4s(medium: Mapping[str, Any]) -> list[str]:
    variants = (medium.get("video_info") or {}).get("variants") or []
    return [
        str(v["url"])
        for v in variants
        if isinstance(v, Mapping) and v.get("content_type") == "video/mp4" and v.get("url")
    ]


def _sent_time(tweet: Mapping[str, Any]) -> datetime | None:
    value = _legacy(tweet).get("created_at")
    if not isinstance(value, str):
        return None
    return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(UTC)


def _counts(tweet: Mapping[str, Any]) -> dict[str, int]:
    legacy = _legacy(tweet)
    names = {"likes": "favorite_count", "shares": "retweet_count", "replies": "reply_count"}
    return {ours: legacy[theirs] for ours, theirs in names.items() if theirs in legacy}


def _original_counts(outcome: Outcome) -> dict[str, int]:
    """The retweeted post's non-zero counts (a 0 tells nothing about where it came from)."""
    return {name: count for name, count in _counts(_retweeted(outcome)).items() if count}


def _carries(outcome: Outcome, relation: str, post: Mapping[str, Any]) -> bool:
    quoted = getattr(outcome.item, "quoted", None)  # the lead's new field; None until it lands
    post_id = str(post.get("rest_id") or _legacy(post).get("id_str"))
    return (
        quoted is not None
        and str(quoted.relation) == relation
        and quoted.platform_id == post_id
        and quoted.text == _whole_text(post)
        and quoted.author == _screen_name(post)
        and post_id in str(quoted.url)
    )


def _mapped(outcome: Outcome) -> bool:
    return outcome.item is not None


def _is_unavailable(outcome: Outcome) -> bool:
    data = outcome.payload.get("data")
    tweet = _unwrap(data)
    return (
        not isinstance(data, Mapping)
        or tweet.get("__typename") in ("TweetTombstone", "TweetUnavailable")
        or "tombstone" in tweet
    )


_RETWEET = re.compile(r"^RT @\w{1,15}: ")


# --- the checks -----------------------------------------------------------------------------

CHECKS: tuple[Check, ...] = (
    Check(
        "refused_only_unavailable",
        "The import refuses a captured post only where X sent no post (tombstone, unavailable).",
        passes=_is_unavailable,
        applies=lambda o: o.item is None and "refused" in o.context,
    ),
    Check(
        "text_present",
        "The text is not empty where the post has text.",
        passes=lambda o: bool(o.item.text.strip()),
        applies=lambda o: _mapped(o) and bool(_whole_text(_tweet(o)).strip()),
    ),
    Check(
        "retweet_text_whole",
        "A retweet's text is 'RT @user: ' and the original's whole text.",
        passes=lambda o: (
            bool(_RETWEET.match(o.item.text)) and o.item.text.endswith(_whole_text(_retweeted(o)))
        ),
        applies=lambda o: _mapped(o) and bool(_retweeted(o)),
    ),
    Check(
        "long_post_text_whole",
        "A post longer than 280 characters has its whole note_tweet text.",
        passes=lambda o: _whole_text(_tweet(o)) in o.item.text,
        applies=lambda o: _mapped(o) and bool(_note(_tweet(o)).get("text")) and not _retweeted(o),
    ),
    Check(
        "text_has_no_html_entities",
        "No HTML entity (&amp;, &lt;, &gt;…, as X escapes them in full_text) is left in the text.",
        passes=lambda o: not HTML_ENTITY.search(o.item.text),
        applies=lambda o: _mapped(o) and bool(o.item.text),
    ),
    Check(
        "created_at_is_the_posts",
        "created_at is the post's legacy.created_at (not the capture time).",
        passes=lambda o: o.item.created_at == _sent_time(_tweet(o)),
        applies=lambda o: _mapped(o) and _sent_time(_tweet(o)) is not None,
    ),
    Check(
        "author_id_and_handle",
        "The author's id is legacy.user_id_str and the handle the user's screen_name.",
        passes=lambda o: (
            o.item.author.platform_id == _legacy(_tweet(o)).get("user_id_str")
            and o.item.author.handle == _screen_name(_tweet(o))
        ),
        applies=lambda o: _mapped(o) and bool(_screen_name(_tweet(o))),
    ),
    Check(
        "post_url",
        "The item's address is https://x.com/<screen_name>/status/<rest_id>.",
        passes=lambda o: (
            o.item.url
            == f"https://x.com/{_screen_name(_tweet(o))}/status/{_tweet(o).get('rest_id')}"
        ),
        applies=lambda o: _mapped(o) and bool(_screen_name(_tweet(o))),
    ),
    Check(
        "links_absolute",
        "Every shared link is an absolute http(s) address.",
        passes=lambda o: all(
            urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc for u in o.item.urls
        ),
        applies=lambda o: _mapped(o) and bool(o.item.urls),
    ),
    Check(
        "links_not_t_co",
        "Shared links are the expanded addresses, not X's t.co wrappers.",
        passes=lambda o: not any(_host(u) == "t.co" for u in o.item.urls),
        applies=lambda o: (
            _mapped(o)
            and any(_host(str(e["expanded_url"])) != "t.co" for e in _shared_link_entries(o))
        ),
    ),
    Check(
        "links_kept",
        "Every link the post shares (entities.urls, note_tweet's entity_set) is kept, expanded.",
        passes=lambda o: all(e["expanded_url"] in o.item.urls for e in _shared_link_entries(o)),
        applies=lambda o: _mapped(o) and bool(_shared_link_entries(o)),
    ),
    Check(
        "links_not_own_media",
        "The post's own photos and videos (their t.co and pic.x.com links) are not shared links.",
        passes=lambda o: (
            not any(
                m.get("url") in o.item.urls or m.get("expanded_url") in o.item.urls
                for m in _own_media(o)
            )
        ),
        applies=lambda o: _mapped(o) and bool(_own_media(o)),
    ),
    Check(
        "links_not_quoted_post",
        "The quoted post's own address in a quote's text is not a shared link (quoted has it).",
        passes=lambda o: (
            not any(
                e.get("expanded_url") in o.item.urls
                for e in _link_entries(o)
                if _is_quoted_post_link(o, e)
            )
        ),
        applies=lambda o: _mapped(o) and any(_is_quoted_post_link(o, e) for e in _link_entries(o)),
    ),
    Check(
        "media_kept",
        "Every photo, video and GIF of extended_entities.media is kept.",
        passes=lambda o: len(o.item.media) == len(_own_media(o)),
        applies=lambda o: _mapped(o) and bool(_own_media(o)),
    ),
    Check(
        "photo_is_the_image",
        "A photo is its image (media_url_https), as an image.",
        passes=lambda o: all(
            any(m.kind == "image" and m.url == p["media_url_https"] for m in o.item.media)
            for p in _own_media(o)
            if p.get("type") == "photo" and p.get("media_url_https")
        ),
        applies=lambda o: (
            _mapped(o)
            and any(p.get("type") == "photo" and p.get("media_url_https") for p in _own_media(o))
        ),
    ),
    Check(
        "video_is_the_file",
        "A video or GIF is its MP4 file (a variant), not its thumbnail.",
        passes=lambda o: all(
            any(m.kind == "video" and m.url in _mp4s(v) for m in o.item.media)
            for v in _own_media(o)
            if _mp4s(v)
        ),
        applies=lambda o: _mapped(o) and any(_mp4s(v) for v in _own_media(o)),
    ),
    Check(
        "media_alt_text",
        "A medium's ext_alt_text is its description.",
        passes=lambda o: all(
            any(m.description == a["ext_alt_text"] for m in o.item.media)
            for a in _own_media(o)
            if a.get("ext_alt_text")
        ),
        applies=lambda o: _mapped(o) and any(a.get("ext_alt_text") for a in _own_media(o)),
    ),
    Check(
        "language_is_iso_639_1",
        "The language is None or an ISO 639-1 code (never X's qme, qst, zxx, und, in…).",
        passes=lambda o: o.item.language is None or o.item.language in ISO_639_1,
        applies=lambda o: _mapped(o) and isinstance(_legacy(_tweet(o)).get("lang"), str),
    ),
    Check(
        "language_kept",
        "Where X names a language, it is kept (X's 'in' as 'id', 'iw' as 'he').",
        passes=lambda o: (
            o.item.language == X_RENAMED.get(_legacy(_tweet(o))["lang"], _legacy(_tweet(o))["lang"])
        ),
        applies=lambda o: (
            _mapped(o)
            and X_RENAMED.get(
                str(_legacy(_tweet(o)).get("lang")), str(_legacy(_tweet(o)).get("lang"))
            )
            in ISO_639_1
        ),
    ),
    Check(
        "reply_parent",
        "A reply's parent_id is legacy.in_reply_to_status_id_str.",
        passes=lambda o: o.item.parent_id == _legacy(_tweet(o))["in_reply_to_status_id_str"],
        applies=lambda o: _mapped(o) and bool(_legacy(_tweet(o)).get("in_reply_to_status_id_str")),
    ),
    Check(
        "reply_thread",
        "A reply's thread_id is its conversation_id_str, never its own id.",
        passes=lambda o: (
            o.item.thread_id == _legacy(_tweet(o)).get("conversation_id_str")
            and o.item.thread_id != o.item.platform_id
        ),
        applies=lambda o: _mapped(o) and bool(_legacy(_tweet(o)).get("in_reply_to_status_id_str")),
    ),
    Check(
        "repost_counts_not_originals",
        "A retweet has none of the original's counts as its own (X copies the original's "
        "retweet_count onto the retweet).",
        passes=lambda o: (
            not any(
                o.item.metrics.get(name) == count for name, count in _original_counts(o).items()
            )
        ),
        applies=lambda o: _mapped(o) and bool(_retweeted(o)) and bool(_original_counts(o)),
    ),
    Check(
        "metrics_kept",
        "A post's likes, retweets and replies (legacy counts) are kept (not on retweets).",
        passes=lambda o: all(o.item.metrics.get(k) == v for k, v in _counts(_tweet(o)).items()),
        applies=lambda o: _mapped(o) and not _retweeted(o) and bool(_counts(_tweet(o))),
    ),
    Check(
        "repost_carried",
        "A retweet carries the original (quoted: relation repost, its id, text and author).",
        passes=lambda o: _carries(o, "repost", _retweeted(o)),
        applies=lambda o: _mapped(o) and bool(_retweeted(o)),
    ),
    Check(
        "quote_carried",
        "A quote carries the quoted post (quoted: relation quote, its id, text and author).",
        passes=lambda o: _carries(o, "quote", _quoted_post(o)),
        applies=lambda o: (
            _mapped(o)
            and bool(_legacy(_quoted_post(o)))
            and not _retweeted(o)
            and "tombstone" not in _quoted_post(o)
        ),
    ),
)
