"""Does a drafted reply say only what its sources say? A check of what a language model is
likeliest to invent: figures, dates, links, accounts and names.

:func:`check_grounding` lists each thing of the draft that no source holds:

- **numbers** written with digits (``3,5``, ``12 %``, ``1 200``, ``1,200``, Arabic-Indic digits),
  compared by value: ``1 200`` in the draft is grounded by ``1200`` or ``1 200`` in a source,
  ``3,5`` by ``3.5``. A separator that may mean either (``1,200``: 1.2 in French, 1200 in
  English) stands for both values;
- **dates** (``12/03/2024``, ``2024-03-12``, ``12 mars 2024``, ``March 12, 2024``, in French,
  English and Arabic month names) compared as days, whatever the way they are written; day and
  month may be read either way round (``03/12``) where both make a date;
- **links**: addresses, bare domains (``service-public.fr``) and e-mail addresses, found as
  :func:`~beffroi.analysis.moderation.normalize.normalize` finds them in a comment;
- **handles** (``@mairie``), grounded by ``@mairie`` or a profile address ending in
  ``/mairie``;
- **names**: capitalised words, alone or in a row (``Jean Dupont``, ``Saint-Aubin``, ``ARS``),
  except at the start of a sentence (where any word has a capital), and a small list of
  function words, titles, days and months. A name is grounded when a source holds it,
  whatever its case, accents kept. Arabic script has no capitals: its names are not looked for.

Citation markers (``[1]``, ``[2, 3]``) are not numbers. Numbers written in words are not
read. The check is pure: the sources are given as text (titles, addresses and pages alike).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from beffroi.analysis.moderation.normalize import normalize

__all__ = [
    "CITATION",
    "GroundingProblem",
    "ProblemKind",
    "check_grounding",
]


class ProblemKind(StrEnum):
    """What a draft holds that its sources do not (the first five), or how it misuses them
    (the last three, which :mod:`beffroi.analysis.counterspeech.drafting` adds)."""

    NUMBER = "number"
    DATE = "date"
    LINK = "link"
    HANDLE = "handle"
    NAME = "name"
    #: It cites a source number it was not given.
    CITATION = "citation"
    #: It cites no source at all.
    UNCITED = "uncited"
    #: It is longer than asked.
    LENGTH = "length"


@dataclass(frozen=True)
class GroundingProblem:
    kind: ProblemKind
    #: The draft's words, as written.
    token: str


#: ``[1]``, ``[2, 3]``, ``[1][4]``: how a draft cites its numbered sources.
CITATION = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\]")

# --- characters ----------------------------------------------------------------------------

#: Arabic-Indic and extended Arabic-Indic digits, and the Arabic decimal and thousands signs.
_DIGITS = str.maketrans(
    {
        **{0x0660 + d: str(d) for d in range(10)},
        **{0x06F0 + d: str(d) for d in range(10)},
        0x066B: ".",
        0x066C: ",",
    }
)
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'"})
_HYPHENS = re.compile(r"[-‐‑‒–—]")
_SPACES = re.compile(r"\s+")


def _prepared(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_DIGITS).translate(_APOSTROPHES)


def _folded(text: str) -> str:
    """For comparing words: case, apostrophes, hyphens and spacing set aside."""
    return _SPACES.sub(" ", _HYPHENS.sub(" ", _prepared(text).casefold())).strip()


# --- numbers -------------------------------------------------------------------------------

_GROUP_SPACE = "[ \u00a0\u202f]"
_NUMBER = re.compile(
    rf"(?<![\d.,])(?:\d{{1,3}}(?:{_GROUP_SPACE}\d{{3}})+(?:[.,]\d+)?|\d+(?:[.,]\d+)*)(?!\d)"
)


def _canonical(digits: str) -> str:
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return digits
    return format(value.normalize(), "f")


def number_values(token: str) -> frozenset[str]:
    """Every value ``token`` may mean, written canonically (``"1200"``, ``"3.5"``)."""
    compact = re.sub(_GROUP_SPACE, "", token)
    separators = [char for char in compact if char in ".,"]
    if not separators:
        return frozenset({_canonical(compact)})
    parts = re.split(r"[.,]", compact)
    if len(set(separators)) == 2:
        # Both kinds: the last one is the decimal point, the others group thousands.
        last = max(compact.rfind("."), compact.rfind(","))
        whole = re.sub(r"[.,]", "", compact[:last])
        return frozenset({_canonical(f"{whole}.{compact[last + 1 :]}")})
    if len(separators) > 1:
        if all(len(part) == 3 for part in parts[1:]):
            return frozenset({_canonical("".join(parts))})
        # 1.2.3: not one number; each part stands on its own.
        return frozenset(_canonical(part) for part in parts)
    head, tail = parts
    values = {_canonical(f"{head}.{tail}")}
    if len(tail) == 3 and head != "0":
        values.add(_canonical(head + tail))  # 1,200 or 1.200: a thousand and two hundred
    return frozenset(values)


# --- dates ---------------------------------------------------------------------------------

_MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("janvier", "janv", "january", "jan", "يناير", "جانفي", "كانون الثاني"),
    2: ("février", "fevrier", "févr", "fevr", "february", "feb", "فبراير", "فيفري", "شباط"),
    3: ("mars", "march", "mar", "مارس", "آذار"),
    4: ("avril", "avr", "april", "apr", "أبريل", "ابريل", "أفريل", "افريل", "نيسان"),
    5: ("mai", "may", "مايو", "ماي", "أيار"),
    6: ("juin", "june", "jun", "يونيو", "جوان", "حزيران"),
    7: ("juillet", "juil", "july", "jul", "يوليو", "جويلية", "تموز"),
    8: ("août", "aout", "august", "aug", "أغسطس", "اغسطس", "أوت", "اوت", "آب"),
    9: ("septembre", "sept", "september", "sep", "سبتمبر", "أيلول"),
    10: ("octobre", "oct", "october", "أكتوبر", "اكتوبر", "تشرين الأول"),
    11: ("novembre", "nov", "november", "نوفمبر", "تشرين الثاني"),
    12: ("décembre", "decembre", "déc", "dec", "december", "ديسمبر", "كانون الأول"),
}
_MONTH_OF = {name: number for number, names in _MONTH_NAMES.items() for name in names}
_MONTHS = "|".join(sorted((re.escape(name) for name in _MONTH_OF), key=len, reverse=True))
_ORDINAL = r"(?:er|re|e|st|nd|rd|th)?"
_DATE_PATTERNS = (
    # 12/03/2024, 12.03.24, 12-03-2024
    re.compile(r"(?<![\d.,/-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/-])"),
    # 2024-03-12
    re.compile(r"(?<![\d.,/-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d-])"),
    # 12 mars 2024, 1er avril, 12 مارس 2024
    re.compile(rf"(?<!\d)(\d{{1,2}}){_ORDINAL}\s+({_MONTHS})\.?(?:\s+(\d{{4}}))?(?!\w)", re.I),
    # March 12, 2024
    re.compile(rf"(?<!\w)({_MONTHS})\.?\s+(\d{{1,2}}){_ORDINAL}(?:,?\s+(\d{{4}}))?(?!\d)", re.I),
)


def _day(year: int | None, month: int, day: int) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year is not None else f"--{month:02d}-{day:02d}"


def _year(text: str | None) -> int | None:
    if not text:
        return None
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 70 else 1900
    return year


def _date_keys(match: re.Match[str], pattern_index: int) -> frozenset[str]:
    """The days a date may be: ``YYYY-MM-DD``, or ``--MM-DD`` without a year."""
    groups = match.groups()
    candidates: list[str | None] = []
    if pattern_index == 0:
        first, second, year = int(groups[0]), int(groups[2]), _year(groups[3])
        candidates = [_day(year, second, first), _day(year, first, second)]
    elif pattern_index == 1:
        candidates = [_day(int(groups[0]), int(groups[1]), int(groups[2]))]
    elif pattern_index == 2:
        month = _MONTH_OF[groups[1].casefold()]
        candidates = [_day(_year(groups[2]), month, int(groups[0]))]
    else:
        month = _MONTH_OF[groups[0].casefold()]
        candidates = [_day(_year(groups[2]), month, int(groups[1]))]
    return frozenset(key for key in candidates if key is not None)


def _dates(text: str) -> tuple[list[tuple[str, frozenset[str]]], str]:
    """The dates of ``text`` (as written, with their keys) and the text without them."""
    found: list[tuple[int, str, frozenset[str]]] = []
    for index, pattern in enumerate(_DATE_PATTERNS):
        for match in pattern.finditer(text):
            keys = _date_keys(match, index)
            if keys:
                found.append((match.start(), match.group(0), keys))
                text = text[: match.start()] + " " * len(match.group(0)) + text[match.end() :]
    found.sort(key=lambda each: each[0])
    return [(written, keys) for _start, written, keys in found], text


# --- names ---------------------------------------------------------------------------------

#: Capitalised for reasons other than being a name: function words, greetings, titles, days
#: and months (English capitalises them), in French and English; compared case-folded.
FUNCTION_WORDS = frozenset(
    """
    le la les un une des du de au aux et ou mais donc or ni car je tu il elle on nous vous ils
    elles ce cet cette ces ceci cela ça mon ma mes ton ta tes son sa ses notre nos votre vos
    leur leurs qui que quoi dont où oui non merci bonjour bonsoir madame monsieur mesdames
    messieurs mme mlle m mr mrs ms dr pr selon voici voilà comme pour par sur dans avec sans
    en y à est sont chaque tout tous toute toutes si ne pas plus aussi alors ici attention
    lundi mardi mercredi jeudi vendredi samedi dimanche
    the a an and or but so i i'm i've i'll i'd we you he she it they this that these those
    my our your his her their its in on at to of for from with by as is are was were be
    hello hi dear thanks thank yes no please according sir madam ok note see here there
    monday tuesday wednesday thursday friday saturday sunday
    """.split()
) | frozenset(_MONTH_OF)

#: Elided articles and pronouns before an apostrophe: ``l'ARS`` reads ``ARS``.
_ELISION = re.compile(r"^(?:[ldjmnstc]|qu|jusqu|lorsqu|puisqu)'", re.I)
_WORD = re.compile(r"[^\W\d_][\w'-]*")
#: After these, a word starts a sentence (and has a capital whatever it is).
_SENTENCE_ENDS = ".!?…؟۔:;"
#: Between a sentence's end and its first word: quotes, brackets, dashes, bullets.
_OPENERS = " \t\u00a0«»\"“”„‘'([{-–—•*"


def _starts_sentence(before: str) -> bool:
    kept = before.rstrip(_OPENERS)
    return not kept or "\n" in before[len(kept) :] or kept[-1] in _SENTENCE_ENDS


def _capitalised(word: str) -> bool:
    return len(word) >= 2 and word[0].isupper()


def _shouted(word: str) -> bool:
    """An acronym (``ARS``) or a capital inside (``McDonald``): a name wherever it stands."""
    letters = [char for char in word if char.isalpha()]
    return len(letters) >= 2 and (
        all(char.isupper() for char in letters) or any(char.isupper() for char in letters[1:])
    )


def _names(text: str) -> list[str]:
    """The capitalised words of ``text``, joined where they follow each other (``Jean
    Dupont``). A sentence's first word counts only with more capitals than its first letter
    (``ARS``) or when a capitalised word follows it."""
    names: list[str] = []
    run: list[str] = []
    run_at_start = False
    previous_end = 0

    def close() -> None:
        words = run[1:] if run_at_start and not _shouted(run[0]) else run
        if words:
            names.append(" ".join(words))

    for match in _WORD.finditer(text):
        word = _ELISION.sub("", match.group(0)).strip("'-")
        name = _capitalised(word) and word.casefold() not in FUNCTION_WORDS
        follows = bool(run) and not text[previous_end : match.start()].strip()
        if run and not (name and follows):
            close()
            run = []
        if name:
            if not run:
                run_at_start = _starts_sentence(text[: match.start()])
            run.append(word)
        previous_end = match.end()
    if run:
        close()
    return names


def _holds_words(haystack: str, words: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(_folded(words))}(?!\w)", haystack) is not None


# --- links ---------------------------------------------------------------------------------

_BOUNDARY = r"$|[\s<>\"'«»()\[\]{}]|[.,;:!?…](?:\s|$)"


def _link_key(url: str) -> str:
    key = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url.strip().casefold())
    return key.removeprefix("www.").rstrip("/")


def _holds_link(haystack: str, key: str) -> bool:
    """Whether the address ``key`` is in the sources: a page as it is (a trailing slash
    aside), a bare domain as the host of any address or e-mail address."""
    if "/" in key:
        pattern = rf"(?<![\w.@/-]){re.escape(key)}/?(?={_BOUNDARY})"
    else:
        pattern = rf"(?<![\w./-]){re.escape(key)}(?=[/:]|{_BOUNDARY})"
    return re.search(pattern, haystack) is not None


def _blank(text: str, spans: Iterable[str]) -> str:
    """``text`` with each whitespace-separated token holding one of ``spans`` blanked out,
    so that an address's digits and capitals are not read as numbers and names."""
    folded_spans = [span.casefold() for span in spans if span]

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        lowered = token.casefold()
        if "://" in token or "@" in token or any(span in lowered for span in folded_spans):
            return " " * len(token)
        return token

    return re.sub(r"\S+", replace, text)


# --- the check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grounds:
    """What the sources hold, read once."""

    words: str
    links: str
    numbers: frozenset[str]
    dates: frozenset[str]

    @classmethod
    def of(cls, sources: Sequence[str]) -> _Grounds:
        text = _prepared("\n\n".join(sources))
        lowered = text.casefold()
        # Addresses compared without their scheme and "www.", as the draft's keys are.
        links = re.sub(r"(?<![\w.-])(?:[a-z][a-z0-9+.-]*://)?(?:www\.)?", "", lowered)
        dates, _rest = _dates(text)
        keys: set[str] = set()
        numbers = {value for match in _NUMBER.finditer(text) for value in number_values(match[0])}
        for _written, found in dates:
            for key in found:
                keys.add(key)
                keys.add("--" + key[-5:])
                year, month, day = key[:-6], key[-5:-3], key[-2:]
                numbers.update(_canonical(part) for part in (year, month, day) if part != "-")
        return cls(_folded(text), links, frozenset(numbers), frozenset(keys))

    def holds_date(self, keys: frozenset[str]) -> bool:
        for key in keys:
            if key in self.dates:
                return True
            # "12 mars" in a source and "2024" elsewhere in it ground "12 mars 2024".
            if not key.startswith("--") and "--" + key[-5:] in self.dates:
                if _canonical(key[:4]) in self.numbers:
                    return True
        return False


def check_grounding(draft: str, sources: Sequence[str]) -> list[GroundingProblem]:
    """What ``draft`` says that none of ``sources`` holds: one problem per thing, in the
    order numbers and dates, links, handles, names (each in the draft's order)."""
    grounds = _Grounds.of(sources)
    text = _prepared(draft)
    problems: list[GroundingProblem] = []

    def add(kind: ProblemKind, token: str) -> None:
        problem = GroundingProblem(kind, token.strip())
        if problem not in problems:
            problems.append(problem)

    read = normalize(text)
    text = _blank(text, [*read.urls, *read.domains, *read.emails])
    text = CITATION.sub(lambda match: " " * len(match.group(0)), text)

    dates, text = _dates(text)
    for written, keys in dates:
        if not grounds.holds_date(keys):
            add(ProblemKind.DATE, written)
    for match in _NUMBER.finditer(text):
        if not number_values(match.group(0)) & grounds.numbers:
            add(ProblemKind.NUMBER, match.group(0))

    for url in read.urls:
        if not _holds_link(grounds.links, _link_key(url)):
            add(ProblemKind.LINK, url)
    for email in read.emails:
        if not _holds_link(grounds.links, email.casefold()):
            add(ProblemKind.LINK, email)
    for mention in read.mentions:
        name = mention.removeprefix("@")
        held = re.search(rf"(?:@|/){re.escape(name)}(?![\w.@-]*\w)", grounds.links)
        if held is None:
            add(ProblemKind.HANDLE, mention)

    for name in _names(text):
        if not _holds_words(grounds.words, name):
            add(ProblemKind.NAME, name)
    return problems
