"""Reading the values every connector reads: numbers of days, API addresses, platform times,
links written in plain text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from beffroi import egress
from beffroi.connectors.base import ConfigurationError

_TEXT_LINK = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)


def clear_text_allowed(host: str) -> bool:
    """Whether plain http may go to ``host``: only to an internal host the operator allowed
    (``BEFFROI_ALLOWED_INTERNAL_HOSTS``: an intranet service, the tests' loopback servers).
    Anywhere else a token would cross networks in clear text."""
    return egress.allows_internal(host)


#: The only schemes an address from outside may be fetched or linked with: never
#: ``javascript:``, ``data:``, ``vbscript:`` or a scheme the system hands to another program.
WEB_SCHEMES = frozenset({"http", "https"})


def web_address(value: Any) -> str:
    """``value`` (stripped) if it is an http(s) address with a host, else "".

    Whitespace or control characters inside refuse it: browsers drop tabs and newlines, so
    ``java\tscript:`` would become the ``javascript:`` it hides.
    """
    if not isinstance(value, str):
        return ""
    address = value.strip()
    if not address or any(char.isspace() or ord(char) < 32 for char in address):
        return ""
    try:
        parts = urlsplit(address)
    except ValueError:
        return ""
    return address if parts.scheme.lower() in WEB_SCHEMES and parts.netloc else ""


def positive_int(settings: Mapping[str, Any], name: str, default: int, label: str) -> int:
    """The whole number ``settings[name]``, at least 1 (``default`` when absent)."""
    value = settings.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigurationError(f"{label}: '{name}' must be a whole number.") from None
    if number < 1:
        raise ConfigurationError(f"{label}: '{name}' must be at least 1.")
    return number


def api_base_url(value: Any, label: str, default: str, *, keep_path: bool = False) -> str:
    """``scheme://host[:port]`` (and its path with ``keep_path``) of a platform's API.

    Empty means ``default``; https is required except towards an allowed internal host
    (:func:`clear_text_allowed`), because the token would travel in clear text.
    """
    raw = str(value or default).strip().rstrip("/")
    parts = urlsplit(raw)
    host = parts.hostname or ""
    has_path = bool(parts.path.strip("/"))
    if (
        parts.scheme not in ("http", "https")
        or not host
        or parts.query
        or parts.fragment
        or (has_path and not keep_path)
    ):
        raise ConfigurationError(f"{label}: base_url must be the API's address, e.g. {default}.")
    if parts.scheme == "http" and not clear_text_allowed(host):
        raise ConfigurationError(
            f"{label}: base_url must use https; the access token would travel in clear text."
        )
    path = parts.path.rstrip("/") if keep_path else ""
    return f"{parts.scheme}://{parts.netloc}{path}"


def parse_time(value: Any) -> datetime | None:
    """A platform's time (ISO 8601 / RFC 3339, ``Z`` or ``+0000`` offsets, or a datetime) as an
    aware UTC datetime; None when it is not one."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = f"{text[:-1]}+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            try:
                moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z")
            except ValueError:
                return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def with_poll_options(text: str, options: list[str]) -> str:
    """A post's text followed by its poll's options, one ``- option`` line each, as its
    reader sees them under it."""
    return "\n".join(filter(None, (text, *(f"- {option}" for option in options))))


def language_code(value: Any) -> str | None:
    """A platform's language tag (BCP 47 or POSIX: ``en_US``, ``fr-FR``, ``zh-Hans``, ``de``)
    as the ISO 639-1 code Beffroi stores (``en``, ``fr``, ``zh``, ``de``); None for a tag
    without one (``fil``, ``*``), so that Beffroi's own detection runs."""
    primary = re.split(r"[-_]", str(value or "").strip(), maxsplit=1)[0].lower()
    return primary if len(primary) == 2 and primary.isascii() and primary.isalpha() else None


def iso_z(moment: datetime, *, milliseconds: bool = False) -> str:
    """``2024-05-01T10:00:00Z`` (``…:00.000Z`` with ``milliseconds``), as platforms write."""
    return (
        moment.astimezone(UTC)
        .isoformat(timespec="milliseconds" if milliseconds else "seconds")
        .replace("+00:00", "Z")
    )


def text_links(text: str) -> tuple[str, ...]:
    """The http(s) addresses written in plain text, in order, once each.

    Punctuation that ends the sentence is not part of the address, nor is a closing bracket
    the address did not open (``(see https://example.org/a)``; a Wikipedia
    ``…/Lyon_(France)`` keeps its own).
    """
    links = []
    for match in _TEXT_LINK.findall(text):
        link = match
        while link:
            link = link.rstrip(".,;:!?…")
            last = link[-1:]
            opening = {")": "(", "]": "[", "}": "{"}.get(last)
            if opening is not None and link.count(opening) < link.count(last):
                link = link[:-1]
                continue
            break
        if "://" in link and not link.endswith("://"):
            links.append(link)
    return tuple(dict.fromkeys(links))
