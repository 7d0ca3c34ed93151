"""4CAT CSV exports of X datasets, through the file import (``parse_file``), and the field
checks of issue 13, item 8.

No licence-compatible 4CAT CSV export was found (tests/corpus/fourcat/SOURCE.md). This module
reads, verbatim, the recorded answers of X's web GraphQL API under tests/corpus/zeeschuimer/
(twscrape's, its ``RECORDINGS``): the answers Zeeschuimer captures and 4CAT's ``twitter-import``
data source reads. For each post Zeeschuimer would capture (:func:`~tests.fidelity.platforms.
zeeschuimer.export_lines`), :func:`fourcat_row` writes the CSV row 4CAT exports for it: the
columns and values of ``SearchTwitterViaZeeschuimer.map_item_modern`` (4CAT,
``datasources/twitter-import/search_twitter.py``, commit 227bead, MPL-2.0), written here anew
from what that function outputs, in its column order, with ``csv.DictWriter`` as 4CAT writes
its datasets. Each row is imported alone (header and row in one file, so that one record
that breaks the import does not hide the others) with
:func:`~beffroi.connectors.fileimport.reading.parse_file` and the platform a person gives to
a 4CAT CSV of X (``x``: the export names no platform).

The checks compare what was mapped with the CSV row (what Beffroi received); where 4CAT
itself loses something (a long post's ``note_tweet``), the row is what is compared.
"""

from __future__ import annotations

import csv
import html
import json
import re
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from beffroi.connectors.fileimport.reading import parse_file
from tests.fidelity import common
from tests.fidelity.common import RETWEET, as_dict, mapped, x_language
from tests.fidelity.model import Check, Outcome
from tests.fidelity.platforms.zeeschuimer import export_lines

PLATFORM = "fourcat"
#: The X web answers Zeeschuimer captures, stored once (tests/corpus/fourcat/SOURCE.md).
RECORDINGS = "zeeschuimer"
CORPUS = Path(__file__).resolve().parent.parent.parent / "corpus"
#: The platform a person names for a 4CAT CSV of X (``beffroi import --platform x``).
GIVEN_PLATFORM = "x"
_TAGS = re.compile(r"<[^>]+>")


# --- 4CAT's row (twitter-import, map_item_modern) --------------------------------------------


def _screen_name_from_media(legacy: Mapping[str, Any]) -> str:
    # 4CAT's fallback when X sent no inline user: the author in a medium's expanded_url.
    for container in ("extended_entities", "entities"):
        for medium in as_dict(legacy.get(container)).get("media") or []:
            found = re.match(
                r"^https?://(?:x|twitter)\.com/([^/]+)/status/",
                str(as_dict(medium).get("expanded_url") or ""),
            )
            if found:
                return found.group(1)
    return ""


def _centroid(box: list[list[list[float]]]) -> str:
    points = box[0]
    longitudes = [point[0] for point in points]
    latitudes = [point[1] for point in points]
    return str([sum(longitudes) / len(longitudes), sum(latitudes) / len(latitudes)])


def fourcat_row(tweet: dict[str, Any]) -> dict[str, Any]:
    """The row 4CAT's CSV export has for one captured post (``map_item_modern``'s values).

    ``tweet`` is a Zeeschuimer line's ``data`` (with its ``id``); it is changed in place as
    4CAT changes it (a retweet's text). Raises where 4CAT's mapping raises.
    """
    user_result = as_dict(as_dict(as_dict(tweet.get("core")).get("user_results")).get("result"))
    user_key = "core" if user_result.get("core") else "legacy"
    legacy = tweet["legacy"]
    if user_result:
        screen_name = user_result[user_key]["screen_name"]
        fullname = user_result[user_key]["name"]
        avatar = (
            user_result["avatar"]["image_url"]
            if "avatar" in user_result
            else user_result["legacy"].get("profile_image_url_https", "")
        )
        banner = user_result["legacy"].get("profile_banner_url", "")
        verified = user_result.get("is_blue_verified", "")
    else:
        screen_name, fullname, avatar, banner, verified = (
            _screen_name_from_media(legacy),
            "",
            "",
            "",
            "",
        )
    link = (
        f"https://x.com/{screen_name}/status/{tweet['id']}"
        if screen_name
        else f"https://x.com/i/web/status/{tweet['rest_id']}"
    )
    moment = datetime.strptime(legacy["created_at"], "%a %b %d %H:%M:%S %z %Y")
    withheld = False
    retweet = legacy.get("retweeted_status_result")
    retweeted_user = ""
    if retweet:
        if "tweet" in retweet["result"]:
            retweet["result"] = retweet["result"]["tweet"]
        original = retweet["result"]
        original_user = as_dict(
            as_dict(as_dict(original.get("core")).get("user_results")).get("result")
        )
        if original_user:
            retweeted_user = as_dict(original_user.get(user_key)).get("screen_name", "") or as_dict(
                original_user.get("legacy")
            ).get("screen_name", "")
        if not retweeted_user:
            retweeted_user = _screen_name_from_media(as_dict(original.get("legacy")))
        if as_dict(original.get("legacy")).get("withheld_scope"):
            withheld = True
            legacy["full_text"] = original["legacy"]["full_text"]
        else:
            legacy["full_text"] = f"RT @{retweeted_user}: {original['legacy']['full_text']}"
    quote = tweet.get("quoted_status_result")
    if quote and "tweet" in quote.get("result", {}):
        quote["result"] = quote["result"]["tweet"]
    quote_withheld = bool(quote and "tombstone" in quote["result"])
    quote_author = ""
    if quote and not quote_withheld:
        quoted = quote["result"]
        if quoted.get("core"):
            quote_author = (
                quoted["core"]["user_results"]["result"].get(user_key, {}).get("screen_name", "")
            )
        else:
            quote_author = _screen_name_from_media(quoted.get("legacy", {}))
    images: set[str] = set()
    videos: set[str] = set()
    for medium in legacy.get("extended_entities", {}).get("media", []):
        if medium["type"] == "photo":
            images.add(medium["media_url_https"])
        elif medium["type"] == "video":
            images.add(medium["media_url_https"])  # 4CAT lists a video's thumbnail as an image
            files = [
                variant
                for variant in medium.get("video_info", {}).get("variants") or []
                if variant.get("content_type", "").startswith("video/")
            ]
            if files:
                files.sort(key=lambda variant: variant.get("bitrate", 0), reverse=True)
                videos.add(files[0]["url"])
    for medium in legacy["entities"].get("media", []):
        if medium["type"] == "photo":
            images.add(medium["media_url_https"])
    quoted_legacy = quote["result"]["legacy"] if quote and not quote_withheld else {}
    place = legacy.get("place")
    return {
        "collected_from_url": "",
        "id": tweet["rest_id"],
        "thread_id": legacy["conversation_id_str"],
        "timestamp": moment.strftime("%Y-%m-%d %H:%M:%S"),
        "unix_timestamp": int(moment.timestamp()),
        "link": link,
        "body": legacy["full_text"],
        "author": screen_name,
        "author_fullname": fullname,
        "author_id": legacy["user_id_str"],
        "author_avatar_url": avatar,
        "author_banner_url": banner,
        "verified": verified,
        "source": _TAGS.sub("", tweet["source"]),
        "language_guess": legacy.get("lang"),
        "possibly_sensitive": (
            "yes" if tweet.get("possibly_sensitive") or legacy.get("possibly_sensitive") else "no"
        ),
        "retweet_count": legacy["retweet_count"],
        "reply_count": legacy["reply_count"],
        "like_count": legacy["favorite_count"],
        "quote_count": legacy["quote_count"],
        "impression_count": tweet.get("views", {}).get("count", ""),
        "is_retweet": "yes" if retweet else "no",
        "retweeted_user": retweeted_user,
        "is_quote_tweet": "yes" if quote else "no",
        "quote_tweet_id": quote["result"].get("rest_id", "") if quote else "",
        "quote_author": quote_author,
        "quote_body": quoted_legacy.get("full_text", ""),
        "quote_images": ",".join(
            m["media_url_https"]
            for m in quoted_legacy.get("entities", {}).get("media", [])
            if m["type"] == "photo"
        ),
        "quote_videos": ",".join(
            m["media_url_https"]
            for m in quoted_legacy.get("entities", {}).get("media", [])
            if m["type"] == "video"
        ),
        "is_quote_withheld": "yes" if quote_withheld else "no",
        "is_reply": "yes" if str(legacy["conversation_id_str"]) != str(tweet["rest_id"]) else "no",
        "replied_author": legacy.get("in_reply_to_screen_name", ""),
        "is_withheld": "yes" if withheld else "no",
        "hashtags": ",".join(tag["text"] for tag in legacy["entities"].get("hashtags", [])),
        "urls": ",".join(
            url.get("expanded_url", url["display_url"])
            for url in legacy["entities"].get("urls", [])
        ),
        "images": ",".join(images),
        "videos": ",".join(videos),
        "mentions": ",".join(m["screen_name"] for m in legacy["entities"].get("user_mentions", [])),
        "long_lat": _centroid(place["bounding_box"]["coordinates"]) if place else "",
        "place_name": place.get("full_name", "") if place else "",
    }


def _as_written(row: Mapping[str, Any]) -> dict[str, str]:
    """The row as the CSV holds it (what csv.DictWriter writes, read back as text)."""
    return {key: "" if value is None else str(value) for key, value in row.items()}


def read(path: Path) -> Iterator[Outcome]:
    """Every post of the recorded answer ``path`` as a row of 4CAT's CSV export, imported."""
    relative = str(path.resolve().relative_to(CORPUS))
    response = json.loads(path.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="fidelity-fourcat-") as folder:
        for index, line in enumerate(export_lines(response)):
            ref = str(line["item_id"])
            post = json.loads(json.dumps(line["data"]))  # 4CAT changes what it maps
            try:
                row = fourcat_row(post)
            except Exception as exc:  # 4CAT writes no row for it: nothing reaches Beffroi
                context = {"post": line["data"], "not_exported": f"{type(exc).__name__}: {exc}"}
                yield Outcome(relative, ref, {}, context=context)
                continue
            export = Path(folder) / f"{index}.csv"
            with export.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(row))
                writer.writeheader()
                writer.writerow(row)
            written = _as_written(row)
            context = {"post": line["data"]}
            try:
                report = parse_file(export, default_platform=GIVEN_PLATFORM)
            except Exception as exc:  # reported per record, so one does not hide the others
                error = f"{type(exc).__name__}: {exc}"
                yield Outcome(relative, ref, written, error=error, context=context)
                continue
            if report.errors:
                refused = "; ".join(error.reason for error in report.errors)
                yield Outcome(relative, ref, written, context={**context, "refused": refused})
            else:
                yield Outcome(relative, ref, written, item=report.items[0].item, context=context)


# --- reading the row and the post it came from -----------------------------------------------


def _col(outcome: Outcome, name: str) -> str:
    return str(outcome.payload.get(name) or "")


def _list(outcome: Outcome, name: str) -> list[str]:
    # 4CAT joins addresses with commas; an address's own comma is not followed by http.
    value = _col(outcome, name)
    return [part for part in re.split(r",(?=https?://)", value) if part] if value else []


def _yes(outcome: Outcome, name: str) -> bool:
    return _col(outcome, name) == "yes"


def _read_text(outcome: Outcome) -> str:
    """The body as a reader reads it: X escapes &, < and > in full_text, 4CAT keeps them."""
    return html.unescape(_col(outcome, "body")).replace("\r\n", "\n").strip()


def _post(outcome: Outcome) -> Mapping[str, Any]:
    post = outcome.context.get("post")
    return post if isinstance(post, Mapping) else {}


def _legacy(post: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_dict(post.get("legacy"))


def _retweeted(outcome: Outcome) -> Mapping[str, Any]:
    result = as_dict(as_dict(_legacy(_post(outcome)).get("retweeted_status_result")).get("result"))
    return as_dict(result.get("tweet")) or result


def _own_media_links(outcome: Outcome) -> set[str]:
    """The t.co and pic.x.com addresses X gives the post's own photos and videos."""
    legacy = _legacy(_post(outcome))
    media = as_dict(legacy.get("extended_entities")).get("media") or as_dict(
        legacy.get("entities")
    ).get("media")
    return {
        str(m[key]) for m in media or [] for key in ("url", "expanded_url") if as_dict(m).get(key)
    }


def _thumbnails(outcome: Outcome) -> set[str]:
    legacy = _legacy(_post(outcome))
    return {
        str(m.get("media_url_https"))
        for m in as_dict(legacy.get("extended_entities")).get("media") or []
        if as_dict(m).get("type") in ("video", "animated_gif")
    }


def _photos(outcome: Outcome) -> list[str]:
    """The images column less the video thumbnails 4CAT adds to it."""
    return [url for url in _list(outcome, "images") if url not in _thumbnails(outcome)]


def _original_counts(outcome: Outcome) -> dict[str, int]:
    """The retweeted post's non-zero counts (a 0 tells nothing about where it came from)."""
    legacy = _legacy(_retweeted(outcome))
    names = {"likes": "favorite_count", "shares": "retweet_count", "replies": "reply_count"}
    return {ours: legacy[theirs] for ours, theirs in names.items() if legacy.get(theirs)}


def _counts(outcome: Outcome) -> dict[str, int]:
    names = {
        "likes": "like_count",
        "shares": "retweet_count",
        "replies": "reply_count",
        "views": "impression_count",
    }
    return {
        ours: int(_col(outcome, theirs)) for ours, theirs in names.items() if _col(outcome, theirs)
    }


def _sent_time(outcome: Outcome) -> datetime | None:
    stamp = _col(outcome, "unix_timestamp")
    return datetime.fromtimestamp(int(stamp), UTC) if stamp.isdigit() else None


def _language(outcome: Outcome) -> str:
    return x_language(_col(outcome, "language_guess"))


# --- the checks -----------------------------------------------------------------------------

CHECKS: tuple[Check, ...] = (
    Check(
        "row_imported",
        "Every row of 4CAT's export is imported (none refused).",
        passes=mapped,
        applies=lambda o: "not_exported" not in o.context,
    ),
    Check(
        "platform_given",
        "The items have the platform named for the file (x), not 'file'.",
        passes=lambda o: o.item.platform == GIVEN_PLATFORM,
        applies=mapped,
    ),
    common.text_present(
        lambda o: _col(o, "body").strip(), "The text is not empty where the body has text."
    ),
    Check(
        "text_whole",
        "The text is the whole body (a retweet's 'RT @user: ' and the original's full_text).",
        passes=lambda o: o.item.text in (_read_text(o), _col(o, "body").strip()),
        applies=lambda o: mapped(o) and bool(_col(o, "body").strip()),
    ),
    Check(
        "retweet_text_whole",
        "A retweet's text is 'RT @user: ' and the original's whole text, as 4CAT writes it.",
        passes=lambda o: (
            bool(RETWEET.match(o.item.text))
            and o.item.text.endswith(
                html.unescape(str(_legacy(_retweeted(o)).get("full_text") or "")).strip()
            )
        ),
        applies=lambda o: mapped(o) and _yes(o, "is_retweet") and not _yes(o, "is_withheld"),
    ),
    common.x_no_html_entities(
        "No HTML entity (&amp;, &lt;, &gt;, as X escapes them and 4CAT keeps them) is left."
    ),
    common.created_at_is(
        "created_at_is_the_posts",
        "created_at is the row's unix_timestamp (the post's date, not the export's).",
        _sent_time,
        dated=True,
    ),
    Check(
        "platform_id_is_the_posts",
        "The item's id is the row's id (X's rest_id), not a derived hash.",
        passes=lambda o: o.item.platform_id == _col(o, "id"),
        applies=lambda o: mapped(o) and bool(_col(o, "id")),
    ),
    common.author_id_and_handle(
        "The author's id is author_id, the handle author and the name author_fullname.",
        author_id=lambda o: _col(o, "author_id"),
        handle=lambda o: _col(o, "author"),
        display_name=lambda o: _col(o, "author_fullname"),
        applies=lambda o: _col(o, "author"),
    ),
    Check(
        "post_url",
        "The item's address is the row's link (https://x.com/<author>/status/<id>).",
        passes=lambda o: o.item.url == _col(o, "link"),
        applies=lambda o: mapped(o) and bool(_col(o, "link")),
    ),
    common.reply_thread(
        lambda o: _col(o, "thread_id"),
        lambda o: _yes(o, "is_reply"),
        "A reply's thread_id is its thread_id column (the conversation), never its own id.",
    ),
    common.links_absolute(),
    common.links_not_t_co(
        "Shared links are the urls column's expanded addresses, not the body's t.co wrappers.",
        lambda o: "t.co/" in _col(o, "body"),
    ),
    common.links_kept(
        lambda o: _list(o, "urls"), "Every address of the urls column is a shared link."
    ),
    common.links_not_own_media(
        _own_media_links,
        "The post's own photos and videos (their t.co and pic.x.com links) are not shared links.",
    ),
    Check(
        "media_kept",
        "Every photo of the images column and every file of the videos column is a medium.",
        passes=lambda o: {m.url for m in o.item.media} >= {*_photos(o), *_list(o, "videos")},
        applies=lambda o: mapped(o) and bool(_photos(o) or _list(o, "videos")),
    ),
    common.video_is_the_file(
        lambda o: [[v] for v in _list(o, "videos")],
        "A video is its file (the videos column), as a video, not its thumbnail.",
        thumbnails=_thumbnails,
    ),
    common.language_is_iso_639_1(
        "The language is None or an ISO 639-1 code (never X's qme, qst, zxx, und, in…).",
        applies=lambda o: mapped(o) and bool(_col(o, "language_guess")),
    ),
    common.language_kept(
        _language,
        "Where language_guess names a language, it is kept (X's 'in' as 'id', 'iw' as 'he').",
    ),
    common.metrics_kept(
        _counts,
        lambda o: not _yes(o, "is_retweet") and bool(_counts(o)),
        "like_count, retweet_count, reply_count and impression_count are kept (not on retweets).",
    ),
    common.repost_counts_not_originals(
        _original_counts,
        lambda o: _yes(o, "is_retweet"),
        "A retweet has none of the original's counts as its own (X copies the original's "
        "retweet_count onto the retweet, and 4CAT exports it).",
    ),
    Check(
        "repost_carried",
        "A retweet carries the original (quoted: relation repost, the body's text after "
        "'RT @user: ' and retweeted_user).",
        # 4CAT's row has no id of the original: its text (in the body) and author are checked.
        passes=lambda o: common.carries(
            o,
            "repost",
            text=RETWEET.sub("", _read_text(o), count=1),
            author=_col(o, "retweeted_user"),
        ),
        applies=lambda o: mapped(o) and _yes(o, "is_retweet"),
    ),
    Check(
        "quote_carried",
        "A quote carries the quoted post (quoted: relation quote, quote_tweet_id, quote_body "
        "and quote_author).",
        passes=lambda o: common.carries(
            o,
            "quote",
            platform_id=_col(o, "quote_tweet_id") or common.ANY,
            text=html.unescape(_col(o, "quote_body")),
            author=_col(o, "quote_author"),
        ),
        applies=lambda o: (
            mapped(o) and _yes(o, "is_quote_tweet") and not _yes(o, "is_quote_withheld")
        ),
    ),
)
