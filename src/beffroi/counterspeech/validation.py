"""What makes an entry well formed, read the same way by the services (a person's form, the
API) and by an import (each row of a file): one sentence per problem, naming the field.

Source addresses follow :mod:`beffroi.egress`: http or https only, and never an address inside
the server's own network unless the operator allowed it (``BEFFROI_ALLOWED_INTERNAL_HOSTS``).
An address written as a number (``127.0.0.1``, ``127.1``, ``0x7f000001``, ``[::1]``) and the
names reserved for local networks (``localhost``, ``*.local``, ``*.internal``, a name without
a dot…) are refused here; a public-looking name is checked again after DNS resolution each
time the page is read (:mod:`beffroi.counterspeech.snapshots`).
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from beffroi import egress
from beffroi.connectors.values import web_address
from beffroi.counterspeech.models import LANGUAGE_CODES, Licence, Strategy, Target, Tone

MAX_TITLE = 200
MAX_TEXT = 5000
MAX_TOPIC = 60
MAX_TOPICS = 30
MAX_SOURCES = 20
MAX_SOURCE_TITLE = 300
MAX_URL = 1000

#: Names that only mean something inside a local network (RFC 6761, 6762, 8375; ICANN's
#: ``.internal``) and the usual home-router suffix.
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan")


@dataclass(frozen=True)
class SourceData:
    url: str
    title: str = ""


@dataclass(frozen=True)
class EntryData:
    """An entry as a person, an API call or a file row gives it. ``texts`` are (language,
    text) pairs so that a language given twice is seen, not silently overwritten."""

    strategy: str
    texts: Sequence[tuple[str, str]]
    title: str = ""
    tone: str = Tone.CALM.value
    targets: Sequence[str] = ()
    topics: Sequence[str] = ()
    licence: str = Licence.ALL_RIGHTS_RESERVED.value
    valid_from: date | None = None
    valid_until: date | None = None
    sources: Sequence[SourceData] = ()
    #: Narratives and checked claims of the same organization (model instances).
    narratives: Sequence[Any] = ()
    claims: Sequence[Any] = ()
    #: Kept from an export, so that the same entry is not imported twice; new when empty.
    key: str = ""


@dataclass(frozen=True)
class Problem:
    """One thing wrong, on one field (``strategy``, ``texts``, ``text_fr``, ``sources``…)."""

    field: str
    message: str


@dataclass
class Checked:
    """The data cleaned (stripped, codes in their canonical case) and what is wrong with it."""

    data: EntryData
    problems: list[Problem] = field(default_factory=list)


def _choices_list(values: Sequence[str]) -> str:
    return ", ".join(values)


def _is_local_name(host: str) -> bool:
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(LOCAL_SUFFIXES) or "." not in name


def _numeric_addresses(host: str) -> list[str]:
    """The address a host written as a number stands for (every spelling the system accepts:
    ``127.1``, ``2130706433``…); empty for a name. No DNS look-up is made."""
    try:
        infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_internal_host(host: str) -> bool:
    """Whether ``host`` is inside the server's own network and the operator did not allow it."""
    rules = egress.policy()
    if rules.allows_name(host):
        return False
    numeric = _numeric_addresses(host)
    if numeric:
        return any(
            not egress.is_public(ip_address(text)) and not rules.allows_ip(ip_address(text))
            for text in numeric
        )
    return _is_local_name(host)


def address_problem(url: str) -> str | None:
    """Why ``url`` cannot be a source (a sentence), or None."""
    if len(url) > MAX_URL:
        return _("The address is longer than %(limit)d characters.") % {"limit": MAX_URL}
    if not web_address(url):
        return _("'%(url)s' is not a web address (it must start with https:// or http://).") % {
            "url": url[:200]
        }
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        return _("'%(url)s' is not a web address.") % {"url": url[:200]}
    if not host:
        return _("'%(url)s' names no site.") % {"url": url[:200]}
    if parts.username is not None or parts.password is not None:
        return _("A source address does not carry a user name or a password.")
    if is_internal_host(host):
        return _(
            "'%(url)s' points inside the server's own network: Beffroi does not read such "
            "addresses."
        ) % {"url": url[:200]}
    return None


def _clean_texts(
    texts: Sequence[tuple[str, str]], problems: list[Problem]
) -> list[tuple[str, str]]:
    cleaned: list[tuple[str, str]] = []
    seen: set[str] = set()
    for raw_language, raw_text in texts:
        language = str(raw_language or "").strip().lower()
        text = str(raw_text or "").strip()
        where = f"text_{language}" if language else "texts"
        if language not in LANGUAGE_CODES:
            problems.append(
                Problem(
                    where,
                    _(
                        "'%(language)s' is not a language code (two letters, ISO 639-1: fr, en, ar…)."
                    )
                    % {"language": language or raw_language},
                )
            )
            continue
        if language in seen:
            problems.append(
                Problem(
                    where, _("The language %(language)s is given twice.") % {"language": language}
                )
            )
            continue
        seen.add(language)
        if not text:
            problems.append(
                Problem(where, _("The text in %(language)s is empty.") % {"language": language})
            )
            continue
        if len(text) > MAX_TEXT:
            problems.append(
                Problem(
                    where,
                    _("The text is longer than %(limit)d characters.") % {"limit": MAX_TEXT},
                )
            )
        cleaned.append((language, text))
    return cleaned


def _clean_sources(sources: Sequence[SourceData], problems: list[Problem]) -> list[SourceData]:
    cleaned: list[SourceData] = []
    seen: set[str] = set()
    if len(sources) > MAX_SOURCES:
        problems.append(
            Problem(
                "sources",
                _("An entry rests on %(limit)d sources at most.") % {"limit": MAX_SOURCES},
            )
        )
    for source in sources:
        url = source.url.strip()
        title = " ".join(source.title.split())
        why = address_problem(url)
        if why is not None:
            problems.append(Problem("sources", why))
            continue
        if url in seen:
            problems.append(
                Problem("sources", _("The source %(url)s is given twice.") % {"url": url[:200]})
            )
            continue
        if len(title) > MAX_SOURCE_TITLE:
            problems.append(
                Problem(
                    "sources",
                    _("A source's title is longer than %(limit)d characters.")
                    % {"limit": MAX_SOURCE_TITLE},
                )
            )
        seen.add(url)
        cleaned.append(SourceData(url, title[:MAX_SOURCE_TITLE]))
    return cleaned


def _canonical(value: str, choices: Sequence[str]) -> str | None:
    wanted = value.strip().casefold()
    return next((choice for choice in choices if choice.casefold() == wanted), None)


def check(data: EntryData) -> Checked:
    """``data`` cleaned, and every problem found in it (none: it may be stored)."""
    problems: list[Problem] = []
    texts = _clean_texts(data.texts, problems)
    if not texts and not any(p.field.startswith("text") for p in problems):
        problems.append(Problem("texts", _("Write the entry's text in at least one language.")))

    strategy = _canonical(data.strategy, Strategy.values)
    if strategy is None:
        problems.append(
            Problem(
                "strategy",
                _("'%(value)s' is not a strategy; the strategies are: %(choices)s.")
                % {"value": data.strategy.strip(), "choices": _choices_list(Strategy.values)}
                if data.strategy.strip()
                else _("Choose a strategy: %(choices)s.")
                % {"choices": _choices_list(Strategy.values)},
            )
        )
    tone = _canonical(data.tone or Tone.CALM.value, Tone.values)
    if tone is None:
        problems.append(
            Problem(
                "tone",
                _("'%(value)s' is not a tone; the tones are: %(choices)s.")
                % {"value": data.tone.strip(), "choices": _choices_list(Tone.values)},
            )
        )
    targets: list[str] = []
    for raw in data.targets:
        if not raw.strip():
            continue
        target = _canonical(raw, Target.values)
        if target is None:
            problems.append(
                Problem(
                    "targets",
                    _("'%(value)s' is not a targeted group; the groups are: %(choices)s.")
                    % {"value": raw.strip(), "choices": _choices_list(Target.values)},
                )
            )
        elif target not in targets:
            targets.append(target)
    licence = _canonical(data.licence or Licence.ALL_RIGHTS_RESERVED.value, Licence.values)
    if licence is None:
        problems.append(
            Problem(
                "licence",
                _("'%(value)s' is not a licence the library knows; the licences are: %(choices)s.")
                % {"value": data.licence.strip(), "choices": _choices_list(Licence.values)},
            )
        )
    topics: list[str] = []
    for raw in data.topics:
        topic = " ".join(raw.split())
        if not topic or topic in topics:
            continue
        if len(topic) > MAX_TOPIC or "|" in topic:
            problems.append(
                Problem(
                    "topics",
                    _("A topic is at most %(limit)d characters long, without '|': %(topic)s")
                    % {"limit": MAX_TOPIC, "topic": topic[:80]},
                )
            )
            continue
        topics.append(topic)
    if len(topics) > MAX_TOPICS:
        problems.append(
            Problem("topics", _("An entry has %(limit)d topics at most.") % {"limit": MAX_TOPICS})
        )
    if data.valid_from and data.valid_until and data.valid_until < data.valid_from:
        problems.append(Problem("valid_until", _("The entry's validity ends before it begins.")))
    title = " ".join(data.title.split())
    if len(title) > MAX_TITLE:
        problems.append(
            Problem(
                "title", _("The title is longer than %(limit)d characters.") % {"limit": MAX_TITLE}
            )
        )
    if not title and texts:
        # Untitled: its first words, as the lists show it.
        title = " ".join(texts[0][1].split())[:80]
    sources = _clean_sources(data.sources, problems)
    cleaned = replace(
        data,
        title=title,
        strategy=strategy or "",
        tone=tone or "",
        targets=tuple(targets),
        topics=tuple(topics),
        licence=licence or "",
        texts=tuple(texts),
        sources=tuple(sources),
        key=data.key.strip(),
    )
    return Checked(cleaned, problems)
