"""How items are shown in lists: the inbox columns and small display helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

EXCERPT_CHARS = 180


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    css: str = ""


#: The inbox columns, in order. The template renders a cell per key.
INBOX_COLUMNS: tuple[Column, ...] = (
    # The platform's time, named so: the arrival in Beffroi (an import's date) is another.
    Column("time", _("Posted"), "nowrap col-time"),
    Column("platform", _("Platform"), "col-platform"),
    Column("kind", _("Kind"), "col-kind"),
    Column("author", _("Author"), "col-author"),
    Column("language", _("Language"), "col-language"),
    Column("text", _("Text"), "excerpt"),
    Column("state", _("State"), "col-state"),
)


def media_rows(media: Any) -> list[dict[str, str]]:
    """The item's attachments as rows: kind, description, address (linked by the template)."""
    rows = []
    for entry in media if isinstance(media, list) else []:
        if not isinstance(entry, dict):
            continue
        url = str(entry.get("url", ""))
        rows.append(
            {
                "kind": str(entry.get("kind", "")),
                "description": str(entry.get("description", "")),
                "url": url,
            }
        )
    return rows


def url_rows(urls: Any) -> list[str]:
    """The item's links as text (the template links only the http(s) ones)."""
    return [str(url) for url in (urls if isinstance(urls, list) else [])]


#: Labels of the metrics connectors commonly report; others are shown by their key.
METRIC_LABELS = {
    "likes": _("Likes"),
    "favourites": _("Favourites"),
    "reposts": _("Reposts"),
    "reblogs": _("Boosts"),
    "shares": _("Shares"),
    "replies": _("Replies"),
    "comments": _("Comments"),
    "quotes": _("Quotes"),
    "views": _("Views"),
    "reactions": _("Reactions"),
}


def metric_rows(metrics: Any) -> list[tuple[str, Any]]:
    if not isinstance(metrics, dict):
        return []
    return [
        (str(METRIC_LABELS.get(key, str(key).replace("_", " "))), value)
        for key, value in sorted(metrics.items())
    ]
