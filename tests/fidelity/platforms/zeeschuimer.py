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
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from beffroi.connectors.fileimport.reading import parse_file
from tests.fidelity import common
from tests.fidelity.common import RETWEET, is_x_status_link, mapped, x_language
from tests.fidelity.model import Check, Outcome

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
    return is_x_status_link(entry.get("expanded_url"), _quoted_id(outcome))


def _shared_link_entries(outcome: Outcome) -> list[Mapping[str, Any]]:
    return [
        e
        for e in _link_entries(outcome)
        if isinstance(e.get("expanded_url"), str) and not _is_quoted_post_link(outcome, e)
    ]


def _own_media(outcome: Outcome) -> list[Mapping[str, Any]]:
    legacy = _legacy(_tweet(outcome))
    found = (legacy.get("extended_entities") or {}).get("media") or (
        legacy.get("entities") or {}
    ).get("media")
    return [entry for entry in found or [] if isinstance(entry, Mapping)]


def _own_media_links(outcome: Outcome) -> set[Any]:
    """The t.co and pic.x.com addresses of the post's own media (None where one has none)."""
    return {m.get(key) for m in _own_media(outcome) for key in ("url", "expanded_url")}


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
    post_id = str(post.get("rest_id") or _legacy(post).get("id_str"))
    return common.carries(
        outcome,
        relation,
        platform_id=post_id,
        text=_whole_text(post),
        author=_screen_name(post),
        url_has=post_id,
    )


def _is_unavailable(outcome: Outcome) -> bool:
    data = outcome.payload.get("data")
    tweet = _unwrap(data)
    return (
        not isinstance(data, Mapping)
        or tweet.get("__typename") in ("TweetTombstone", "TweetUnavailable")
        or "tombstone" in tweet
    )


# --- the checks -----------------------------------------------------------------------------

CHECKS: tuple[Check, ...] = (
    Check(
        "refused_only_unavailable",
        "The import refuses a captured post only where X sent no post (tombstone, unavailable).",
        passes=_is_unavailable,
        applies=lambda o: o.item is None and "refused" in o.context,
    ),
    common.text_present(
        lambda o: _whole_text(_tweet(o)).strip(), "The text is not empty where the post has text."
    ),
    Check(
        "retweet_text_whole",
        "A retweet's text is 'RT @user: ' and the original's whole text.",
        passes=lambda o: (
            bool(RETWEET.match(o.item.text)) and o.item.text.endswith(_whole_text(_retweeted(o)))
        ),
        applies=lambda o: mapped(o) and bool(_retweeted(o)),
    ),
    Check(
        "long_post_text_whole",
        "A post longer than 280 characters has its whole note_tweet text.",
        passes=lambda o: _whole_text(_tweet(o)) in o.item.text,
        applies=lambda o: mapped(o) and bool(_note(_tweet(o)).get("text")) and not _retweeted(o),
    ),
    common.x_no_html_entities(
        "No HTML entity (&amp;, &lt;, &gt;…, as X escapes them in full_text) is left in the text."
    ),
    common.created_at_is(
        "created_at_is_the_posts",
        "created_at is the post's legacy.created_at (not the capture time).",
        lambda o: _sent_time(_tweet(o)),
        dated=True,
    ),
    common.author_id_and_handle(
        "The author's id is legacy.user_id_str and the handle the user's screen_name.",
        author_id=lambda o: _legacy(_tweet(o)).get("user_id_str"),
        handle=lambda o: _screen_name(_tweet(o)),
        applies=lambda o: _screen_name(_tweet(o)),
    ),
    common.x_post_url(
        "The item's address is https://x.com/<screen_name>/status/<rest_id>.",
        screen_name=lambda o: _screen_name(_tweet(o)),
        post_id=lambda o: _tweet(o).get("rest_id"),
        applies=lambda o: _screen_name(_tweet(o)),
    ),
    common.links_absolute(),
    common.links_not_t_co(
        "Shared links are the expanded addresses, not X's t.co wrappers.",
        lambda o: any(
            common.host(str(e["expanded_url"])) != "t.co" for e in _shared_link_entries(o)
        ),
    ),
    common.links_kept(
        lambda o: [e["expanded_url"] for e in _shared_link_entries(o)],
        "Every link the post shares (entities.urls, note_tweet's entity_set) is kept, expanded.",
    ),
    common.links_not_own_media(
        _own_media_links,
        "The post's own photos and videos (their t.co and pic.x.com links) are not shared links.",
    ),
    common.links_not_quoted_post(
        lambda o: [e.get("expanded_url") for e in _link_entries(o) if _is_quoted_post_link(o, e)],
    ),
    common.media_kept(_own_media, "Every photo, video and GIF of extended_entities.media is kept."),
    common.photo_is_the_image(
        lambda o: [
            p["media_url_https"]
            for p in _own_media(o)
            if p.get("type") == "photo" and p.get("media_url_https")
        ],
        "A photo is its image (media_url_https), as an image.",
    ),
    common.video_is_the_file(
        lambda o: [_mp4s(v) for v in _own_media(o) if _mp4s(v)],
        "A video or GIF is its MP4 file (a variant), not its thumbnail.",
    ),
    common.media_alt_text(
        lambda o: [a["ext_alt_text"] for a in _own_media(o) if a.get("ext_alt_text")],
        "A medium's ext_alt_text is its description.",
    ),
    common.language_is_iso_639_1(
        "The language is None or an ISO 639-1 code (never X's qme, qst, zxx, und, in…).",
        applies=lambda o: mapped(o) and isinstance(_legacy(_tweet(o)).get("lang"), str),
    ),
    common.language_kept(
        lambda o: x_language(_legacy(_tweet(o)).get("lang")),
        "Where X names a language, it is kept (X's 'in' as 'id', 'iw' as 'he').",
    ),
    Check(
        "reply_parent",
        "A reply's parent_id is legacy.in_reply_to_status_id_str.",
        passes=lambda o: o.item.parent_id == _legacy(_tweet(o))["in_reply_to_status_id_str"],
        applies=lambda o: mapped(o) and bool(_legacy(_tweet(o)).get("in_reply_to_status_id_str")),
    ),
    common.reply_thread(
        lambda o: _legacy(_tweet(o)).get("conversation_id_str"),
        lambda o: _legacy(_tweet(o)).get("in_reply_to_status_id_str"),
        "A reply's thread_id is its conversation_id_str, never its own id.",
    ),
    common.repost_counts_not_originals(
        _original_counts,
        _retweeted,
        "A retweet has none of the original's counts as its own (X copies the original's "
        "retweet_count onto the retweet).",
    ),
    common.metrics_kept(
        lambda o: _counts(_tweet(o)),
        lambda o: not _retweeted(o) and bool(_counts(_tweet(o))),
        "A post's likes, retweets and replies (legacy counts) are kept (not on retweets).",
    ),
    Check(
        "repost_carried",
        "A retweet carries the original (quoted: relation repost, its id, text and author).",
        passes=lambda o: _carries(o, "repost", _retweeted(o)),
        applies=lambda o: mapped(o) and bool(_retweeted(o)),
    ),
    Check(
        "quote_carried",
        "A quote carries the quoted post (quoted: relation quote, its id, text and author).",
        passes=lambda o: _carries(o, "quote", _quoted_post(o)),
        applies=lambda o: (
            mapped(o)
            and bool(_legacy(_quoted_post(o)))
            and not _retweeted(o)
            and "tombstone" not in _quoted_post(o)
        ),
    ),
)
