"""4CAT's CSV export of X datasets (``twitter-import`` from Zeeschuimer captures, the v2
search): the columns it writes beyond the generic ones, read as X sent them.

4CAT writes the post's text as X escapes it (``&amp;``, ``&lt;``), a retweet as ``is_retweet``
and ``retweeted_user`` with the original's counts copied by X, a quote as ``is_quote_tweet``,
``quote_tweet_id``, ``quote_author`` and ``quote_body``, and media as ``images`` (where it
also lists each video's thumbnail) and ``videos``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, Final

from beffroi.connectors.base import MalformedPayload, QuotedItem, Relation
from beffroi.connectors.fileimport.storable import excerpt

#: Columns only 4CAT's X exports have: a row with one of them is read as 4CAT wrote it.
MARKERS: Final = ("is_retweet", "is_quote_tweet")
#: The counts of a retweet are X's copy of the original's: none are kept (as the X connector).
_COUNT_COLUMNS: Final = ("likes", "shares", "replies", "views")
#: X's addresses of a video's (or GIF's) thumbnail, which 4CAT lists among the images.
_THUMBNAIL_PATHS: Final = ("/ext_tw_video_thumb/", "/amplify_video_thumb/", "/tweet_video_thumb/")


def is_fourcat_x(row: Mapping[str, Any]) -> bool:
    return any(marker in row for marker in MARKERS)


def _yes(value: Any) -> bool:
    return str(value or "").strip().lower() in ("yes", "true", "1")


def _addresses(value: Any) -> list[str]:
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


def read_fourcat_x(row: Mapping[str, Any], values: dict[str, Any]) -> QuotedItem | None:
    """Adjust ``values`` (a row's values by canonical column) to what 4CAT's X columns mean;
    returns the post it quotes or reposts."""
    if isinstance(values.get("text"), str):
        values["text"] = html.unescape(values["text"])
    videos = _addresses(row.get("videos"))
    images = [
        url
        for url in _addresses(row.get("images"))
        if not (videos and any(path in url for path in _THUMBNAIL_PATHS))
    ]
    if images or videos:
        values["media"] = [
            *({"kind": "image", "url": url} for url in images),
            *({"kind": "video", "url": url} for url in videos),
        ]
    if _yes(row.get("is_retweet")):
        for column in _COUNT_COLUMNS:
            values.pop(column, None)
        for column in [name for name in values if name.startswith("metric_")]:
            values.pop(column)
        author = str(row.get("retweeted_user") or "").strip()
        text = str(values.get("text") or "")
        prefix = f"RT @{author}: "
        return QuotedItem(
            Relation.REPOST,
            None,
            text.removeprefix(prefix) if author and text.startswith(prefix) else "",
            author,
            "",
        )
    if _yes(row.get("is_quote_tweet")):
        quoted_id = str(row.get("quote_tweet_id") or "").strip()
        author = str(row.get("quote_author") or "").strip()
        if quoted_id and not quoted_id.isdigit():
            raise MalformedPayload(
                f"column 'quote_tweet_id': '{excerpt(quoted_id)}' is not the id of a post on X"
            )
        return QuotedItem(
            Relation.QUOTE,
            quoted_id or None,
            html.unescape(str(row.get("quote_body") or "")).strip(),
            author,
            f"https://x.com/{author or 'i/web'}/status/{quoted_id}" if quoted_id else "",
        )
    return None
