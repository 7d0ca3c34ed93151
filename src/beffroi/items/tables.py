"""How items are shown in lists: the inbox columns and small display helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

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
    Column("time", _("Time"), "nowrap col-time"),
    Column("platform", _("Platform"), "col-platform"),
    Column("kind", _("Kind"), "col-kind"),
    Column("author", _("Author"), "col-author"),
    Column("language", _("Language"), "col-language"),
    Column("text", _("Text"), "excerpt"),
    Column("state", _("State"), "col-state"),
)


def http_url(value: Any) -> str:
    """``value`` if it is an http(s) address, else "" (never link ``javascript:`` and co.)."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return ""
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return ""
    return value.strip()


def media_rows(media: Any) -> list[dict[str, str]]:
    """The item's attachments as rows: kind, description, a safe link (or the raw text)."""
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
                "href": http_url(url),
            }
        )
    return rows


def url_rows(urls: Any) -> list[dict[str, str]]:
    return [
        {"url": str(url), "href": http_url(url)} for url in (urls if isinstance(urls, list) else [])
    ]


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
