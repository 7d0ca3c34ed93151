"""What the demo town's people and accounts write, read from the YAML files beside this module.

``town.yaml`` (streets, places, the words of dates), ``people.yaml`` (names and handles),
``announcements.yaml`` (what the town, its police and its mayor publish), ``comments.yaml``
(the templates of what people write), ``answers.yaml`` (the town's answers), ``typing.yaml``
(how people type), and ``hoax.yaml``, ``campaign.yaml``, ``impersonation.yaml`` (the three
stories of the six weeks). Each file says in its header what it holds; they are read once, when
this module is imported, and checked for the shapes below.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "ABBREVIATIONS",
    "ANNOUNCEMENTS",
    "ANSWERS",
    "ARABIC_SPEAKERS",
    "BOTS",
    "CAMPAIGN_PREFIXES",
    "CAMPAIGN_SUFFIXES",
    "CAMPAIGN_SWAPS",
    "CAMPAIGN_TEXT",
    "CIVIL_RECORDS",
    "DOCUMENTS",
    "EMOJI",
    "ENGLISH_SPEAKERS",
    "FIRST_NAMES",
    "GREETINGS",
    "HOAX_ANSWER",
    "HOAX_ECHOES",
    "HOAX_POSTS",
    "HOAX_QUESTIONS",
    "HOAX_QUOTE_PREFIXES",
    "HOAX_SKEPTICS",
    "IMPERSONATION_ANSWER",
    "IMPERSONATION_QUESTIONS",
    "IMPERSONATION_WARNINGS",
    "IMPOSTOR_COMMENTS",
    "IMPOSTOR_POSTS",
    "LAST_NAMES",
    "MAYOR_POSTS",
    "MONTHS",
    "PLACES",
    "POLICE_POSTS",
    "POOLS",
    "QUARTERS",
    "SIGNOFFS",
    "STREETS",
    "TROLLS",
    "WEEKDAYS",
    "Announcement",
    "MayorPost",
    "Pool",
    "bound_to_posts",
    "parse_pool",
    "tag_head",
    "tag_subject",
]


@dataclass(frozen=True)
class Announcement:
    """A post of the town hall or of its police (see the header of ``announcements.yaml``)."""

    key: str
    topic: str
    days_ago: int
    hour: int  # UTC
    minute: int
    where: tuple[str, ...]  # "mastodon", "facebook", "instagram", "police"
    subjects: tuple[str, ...]
    text: str = ""
    image: str = ""  # alt text of the picture; empty: no picture
    engagement: float = 1.0
    routine: bool = True  # moved off week-ends
    group: str | None = None
    insta: str = ""  # Instagram caption when it differs


@dataclass(frozen=True)
class MayorPost:
    """A post of the mayor on her own Bluesky account."""

    days_ago: int
    hour: int  # UTC
    minute: int
    text: str


#: (tag, template) pairs of one kind of text in one language (see ``comments.yaml``).
Pool = tuple[tuple[str | None, str], ...]


def parse_pool(block: str) -> Pool:
    """Parse a block of templates (see the header of ``comments.yaml``) into (tag, template)
    pairs."""
    entries: list[tuple[str | None, str]] = []
    for line in block.strip("\n").splitlines():
        if not line.strip():
            continue
        if line[0].isspace():
            tag, text = entries[-1]
            entries[-1] = (tag, f"{text} {line.strip()}")
            continue
        tag, sep, text = line.partition(" | ")
        entries.append((tag, text.strip()) if sep else (None, line.strip()))
    return tuple(entries)


def tag_head(tag: str | None) -> str | None:
    """The head of a template's tag: a topic, a target or a bot's handle."""
    return (tag or "").partition("/")[0] or None


def tag_subject(tag: str | None) -> str | None:
    """The subject of a template's tag: what the posts it fits under are about."""
    return (tag or "").partition("/")[2].rstrip("!") or None


def bound_to_posts(tag: str | None) -> bool:
    """Whether the template only makes sense as a comment under a post (its tag ends in !)."""
    return (tag or "").endswith("!")


# --- reading and checking -----------------------------------------------------------------------


# libyaml's safe loader when PyYAML was built with it: ten times faster than the pure Python one.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(name: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(f"{name}.yaml").read_text("utf-8")
    data = yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506 (a safe loader)
    if not isinstance(data, dict):
        raise ValueError(f"{name}.yaml: a mapping was expected")
    return data


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a text was expected, not {value!r}")
    return value


def _strings(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list):
        raise ValueError(f"a list of texts was expected, not {values!r}")
    return tuple(_string(value) for value in values)


def _rows(values: Any, width: int) -> tuple[tuple[str, ...], ...]:
    """A list of lists of ``width`` texts (a person, a pair of words…)."""
    rows = tuple(_strings(value) for value in values)
    if any(len(row) != width for row in rows):
        raise ValueError(f"rows of {width} texts were expected in {values!r}")
    return rows


def _pairs(values: Any) -> tuple[tuple[str, str], ...]:
    return tuple((a, b) for a, b in _rows(values, 2))


def _people(values: Any) -> tuple[tuple[str, str, str], ...]:
    return tuple((a, b, c) for a, b, c in _rows(values, 3))


def _said(values: Any) -> tuple[tuple[str, str], ...]:
    """``{lang, text}`` entries as (language, text) pairs."""
    return tuple((_string(value["lang"]), _string(value["text"])) for value in values)


def _announcements(values: Any) -> tuple[Announcement, ...]:
    return tuple(
        Announcement(
            **{
                **entry,
                "where": _strings(entry["where"]),
                "subjects": _strings(entry["subjects"]),
            }
        )
        for entry in values
    )


_town = _read("town")
STREETS = _strings(_town["streets"])
QUARTERS = _strings(_town["quarters"])
PLACES = _strings(_town["places"])
DOCUMENTS = _strings(_town["documents"])
CIVIL_RECORDS = _strings(_town["civil_records"])
WEEKDAYS = _strings(_town["weekdays"])
MONTHS = _strings(_town["months"])

_people_data = _read("people")
FIRST_NAMES = _strings(_people_data["first_names"])
LAST_NAMES = _strings(_people_data["last_names"])
#: (display name, handle, first name)
ENGLISH_SPEAKERS = _people(_people_data["english_speakers"])
ARABIC_SPEAKERS = _people(_people_data["arabic_speakers"])
TROLLS = _people(_people_data["trolls"])
#: (display name, handle)
BOTS = _pairs(_people_data["bots"])

_announcements_data = _read("announcements")
ANNOUNCEMENTS = _announcements(_announcements_data["town"])
POLICE_POSTS = _announcements(_announcements_data["police"])
MAYOR_POSTS = tuple(MayorPost(**entry) for entry in _announcements_data["mayor"])

#: Pool name (a category, or ``reply_…``, ``message_…``, ``watch_neutral``) → language → pool.
POOLS: dict[str, dict[str, Pool]] = {
    name: {_string(lang): parse_pool(_string(block)) for lang, block in languages.items()}
    for name, languages in _read("comments").items()
}

#: Language → (keywords, template): the first whose keywords occur in the question wins.
ANSWERS: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    _string(lang): tuple((_strings(a["keywords"]), _string(a["text"])) for a in answers)
    for lang, answers in _read("answers").items()
}

_typing = _read("typing")
GREETINGS = _strings(_typing["greetings"])
SIGNOFFS = _strings(_typing["signoffs"])
#: (as written in full, as shortened)
ABBREVIATIONS = _pairs(_typing["abbreviations"])
EMOJI = {_string(category): _strings(emoji) for category, emoji in _typing["emoji"].items()}

_hoax = _read("hoax")
#: Language → what spreads the rumour; the first French one starts it all.
HOAX_POSTS = {_string(lang): _strings(posts) for lang, posts in _hoax["posts"].items()}
HOAX_ECHOES = _strings(_hoax["echoes"])
HOAX_QUOTE_PREFIXES = _strings(_hoax["quote_prefixes"])
#: Place (bluesky, facebook, mastodon) → (language, question) pairs.
HOAX_QUESTIONS = {_string(place): _said(asked) for place, asked in _hoax["questions"].items()}
HOAX_SKEPTICS = _strings(_hoax["skeptics"])
HOAX_ANSWER = _string(_hoax["answer"])

_campaign = _read("campaign")
CAMPAIGN_TEXT = _string(_campaign["text"])
#: (as written, as reworded)
CAMPAIGN_SWAPS = _pairs(_campaign["swaps"])
CAMPAIGN_PREFIXES = _strings(_campaign["prefixes"])
CAMPAIGN_SUFFIXES = _strings(_campaign["suffixes"])

_impersonation = _read("impersonation")
IMPOSTOR_POSTS = _strings(_impersonation["posts"])
IMPOSTOR_COMMENTS = {_string(k): _string(v) for k, v in _impersonation["impostor_comments"].items()}
IMPERSONATION_QUESTIONS = {_string(k): _string(v) for k, v in _impersonation["questions"].items()}
IMPERSONATION_WARNINGS = _strings(_impersonation["warnings"])
IMPERSONATION_ANSWER = _string(_impersonation["answer"])
