"""The query language of watches: saved searches that pick the items an organization follows.

Plain Python, no Django: :func:`parse` turns what a person typed in the watch form into a
:class:`Query`, which tells whether a :class:`WatchDocument` (an item's text, author,
language, platform and links) matches. Mistakes raise :class:`WatchQueryError`, whose
``code`` the web layer translates and whose ``position`` points at the culprit.

Syntax
------
It reads like the search boxes people know (Google, Talkwalker)::

    eau potable                  both words (AND is implicit between terms)
    eau AND potable              the same; ET works too
    eau OR fontaine              either; OU works too
    eau NOT piscine              eau but not piscine; SAUF and NON work too
    eau -piscine                 the same, with a leading minus
    "eau potable"                the exact phrase (words in this order, punctuation ignored)
    (eau OR fontaine) coupure    parentheses group
    #canicule                    the hashtag (#canicule in the text, not the plain word)
    @mairie  from:mairie         posts by this account (Mastodon: from:alice@piaille.fr)
    lang:fr                      in this language (lang:fr also matches fr-CA)
    platform:bluesky             from this platform
    domain:example.org           with a link to example.org or any subdomain of it
    eau*                         words starting with "eau" (eau, eaux, eaufrance...)

- Operators are case-insensitive, in English or French: ``AND``/``ET``, ``OR``/``OU``,
  ``NOT``/``SAUF``/``NON``. To look for the word itself, quote it: ``"ou"``.
- Precedence, highest first: ``NOT`` (and ``-``), then ``AND`` (explicit or implicit), then
  ``OR``: ``a OR b c`` is ``a OR (b AND c)`` and ``-a b`` is ``(NOT a) AND b``.
- Field names have French aliases: ``auteur:``, ``langue:``, ``plateforme:``, ``domaine:``
  and ``site:``. ``"…"``, ``“…”`` and ``«…»`` are all quotes.
- A wildcard ``*`` goes at the end of a word or phrase (``"eau pot*"``, ``#eau*``), after
  at least two letters.
- A query must look for something: ``-spam`` alone (which would match everything else) is
  refused.

Matching
--------
Text is compared accent- and case-insensitively, by whole words: ``eau`` matches "Eau",
"l'eau" and "#eau" but neither "beau" nor "réseau". Both sides go through :func:`normalize`
(NFKD, combining marks removed, casefold, œ/æ spelt out; for Arabic script, the
normalisation of Lucene's ``ArabicNormalizer``: tatweel and harakat removed, hamza forms of
alef to bare alef, ة to ه, ى to ي; Arabic-Indic digits to ASCII digits) and are cut into
words, the runs of Unicode word characters (emoji are words of their own). Limits: no
stemming (``eau`` does not match "eaux"; write ``eau*``), Arabic clitics stay attached
("والماء" is one word), and Chinese or Japanese runs without spaces are single words.

Authors are compared casefolded, without a leading ``@``; a handle without instance
(``from:alice``) matches ``alice`` on any Mastodon instance, one with an instance only that
account. Domains are looked for in the item's ``urls`` and in the text (links and bare
``name.tld``), subdomains included; a leading ``www.`` is ignored.

Speed
-----
A document is prepared once (:meth:`WatchDocument.prepared`, cached on the document, or
:func:`prepare`), so that twenty watches cost one tokenisation; hashtags and link hosts are
only extracted when a query asks for them, and the cheap conditions of an AND or OR are
tried first. Measured on one core (CPython 3.11) over 100,000 generated French posts of 15
to 45 words with accents, hashtags and links: preparing runs at about 45,000 items/s;
matching a prepared document against
``(eau OR "eau potable" OR fontaine*) coupure -piscine lang:fr`` at about 1,000,000 items/s
(hashtag and domain queries 150,000 to 400,000 items/s, the first one per document paying
the extraction); 21 watches over 100,000 fresh items take about 5 s, preparation included.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from beffroi.connectors.base import NormalizedItem

__all__ = [
    "ERROR_CODES",
    "MAX_DEPTH",
    "MAX_QUERY_LENGTH",
    "AndNode",
    "AuthorTerm",
    "DomainTerm",
    "HashtagTerm",
    "LanguageTerm",
    "Node",
    "NotNode",
    "OrNode",
    "PlatformTerm",
    "PreparedDocument",
    "Query",
    "TextTerm",
    "Watch",
    "WatchDocument",
    "WatchQueryError",
    "normalize",
    "parse",
    "prepare",
    "tokenize",
]

#: Longest query accepted, in characters.
MAX_QUERY_LENGTH = 4000
#: Deepest nesting of parentheses and NOTs accepted.
MAX_DEPTH = 40
#: Shortest stem before a wildcard, in normalised characters.
MIN_WILDCARD_STEM = 2


# --- errors -------------------------------------------------------------------------------

#: Every ``WatchQueryError.code`` with its English message (``{name}`` are ``params``).
ERROR_CODES: dict[str, str] = {
    "empty_query": "The query is empty.",
    "too_long": "The query is too long (at most {limit} characters).",
    "too_complex": "The query is nested too deeply (at most {limit} levels).",
    "unclosed_quote": "This quote is never closed.",
    "empty_quotes": "These quotes contain nothing.",
    "unclosed_paren": "This parenthesis is never closed.",
    "unexpected_paren": "This closing parenthesis has no opening one.",
    "empty_parens": "These parentheses contain nothing.",
    "missing_term_after": 'Expected a word or phrase after "{operator}".',
    "missing_term_before": 'Expected a word or phrase before "{operator}".',
    "empty_value": 'Expected a value after "{field}".',
    "invalid_value": '"{value}" is not a valid value for "{field}".',
    "unknown_field": 'Unknown filter "{field}": use from:, lang:, platform: or domain:, or quotes.',
    "no_words": '"{value}" contains no word to look for.',
    "bad_wildcard": "The wildcard * only goes at the end of a word.",
    "wildcard_too_short": "Put at least {limit} letters before the wildcard *.",
    "only_exclusions": "Add something to look for: exclusions alone would match everything.",
}


class WatchQueryError(ValueError):
    """A query that cannot be parsed: ``code`` (a key of :data:`ERROR_CODES`) for
    translation, ``position`` (0-based character offset in the query) and ``params`` to
    fill the message in."""

    def __init__(self, code: str, position: int, **params: str | int) -> None:
        self.code = code
        self.position = position
        self.params: dict[str, str | int] = dict(params)
        self.message = ERROR_CODES[code].format(**params)
        super().__init__(f"{self.message} (at character {position + 1})")


# --- normalisation ------------------------------------------------------------------------

_EXTRA_FOLD: dict[int, str | None] = {
    0x0640: None,  # tatweel
    0x0671: "ا",  # alef wasla
    0x0629: "ه",  # teh marbuta
    0x0649: "ي",  # alef maqsura
    0x06CC: "ي",  # farsi yeh
    0x06A9: "ك",  # keheh
    0x0153: "oe",
    0x0152: "oe",
    0x00E6: "ae",
    0x00C6: "ae",
    **{0x0660 + i: str(i) for i in range(10)},  # Arabic-Indic digits
    **{0x06F0 + i: str(i) for i in range(10)},  # extended Arabic-Indic digits
    **dict.fromkeys(range(0xFE00, 0xFE10)),  # variation selectors
    0x200D: None,  # zero width joiner
}
# Emoji are words of their own; the rest of the symbols and the punctuation separate words.
_EMOJI = "\u2600-\u27bf\U0001f000-\U0001faff"
_HOST_RE = re.compile(
    r"(?<![\w@.-])(?:[a-z][a-z0-9+.-]*://)?((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63})(?![\w-])"
)


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The word and hashtag patterns: word characters plus the marks of the Basic
    Multilingual Plane (Arabic harakat, Indic vowel signs), which ``\\w`` leaves out."""
    marks: list[str] = []
    start = previous = -2
    for code in range(0x300, 0x10000):
        if unicodedata.category(chr(code))[0] == "M":
            if code != previous + 1:
                if start >= 0:
                    marks.append(_char_range(start, previous))
                start = code
            previous = code
    marks.append(_char_range(start, previous))
    word = "[\\w" + "".join(marks) + "]+"
    return (
        re.compile(f"{word}|[{_EMOJI}]"),
        re.compile(f"(?<![\\w&])#({word})"),
    )


def _char_range(start: int, end: int) -> str:
    first, last = re.escape(chr(start)), re.escape(chr(end))
    return first if start == end else f"{first}-{last}"


def normalize(text: str) -> str:
    """``text`` folded for comparison: no accents or Arabic diacritics, casefolded."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    return text.translate(_EXTRA_FOLD).casefold()


@lru_cache(maxsize=1 << 16)
def _fold_word(word: str) -> tuple[str, ...]:
    """The normalised words of one raw word (usually one; "½" gives two, "\ufe0f" none)."""
    if word.isascii():
        return (word.lower(),)
    return tuple(_patterns()[0].findall(normalize(word)))


def tokenize(text: str) -> tuple[str, ...]:
    """The normalised words of ``text``, in order.

    Raw words are cut first and each distinct one folded once (a cache), which costs less
    than folding the whole text: vocabularies are small."""
    if text.isascii():
        return tuple(_ASCII_WORD_RE.findall(text.lower()))
    raw = _patterns()[0].findall(text.casefold())
    return tuple(chain.from_iterable(map(_fold_word, raw)))


def _fold_hashtag(tag: str) -> str:
    return "".join(_fold_word(tag))


_ASCII_WORD_RE = re.compile(r"\w+")


def _handle(handle: str) -> str:
    return handle.strip().casefold().lstrip("@")


def _language(code: str) -> str:
    return code.strip().lower().replace("_", "-")


def _language_matches(wanted: str, language: str) -> bool:
    return language == wanted or language.startswith(wanted + "-")


def _author_matches(wanted: str, author: str) -> bool:
    if author == wanted:
        return True
    return "@" not in wanted and author.split("@", 1)[0] == wanted


def _host_of(url: str) -> str:
    url = url.strip()
    if "://" not in url:
        url = "//" + url
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.casefold().rstrip(".")


# --- documents ----------------------------------------------------------------------------


class PreparedDocument:
    """A document cut into what queries look at, once; the rest is computed on first use."""

    __slots__ = (
        "_folded",
        "_hashtags",
        "_haystack",
        "_hosts",
        "_sorted",
        "_text",
        "_urls",
        "author",
        "language",
        "platform",
        "token_set",
        "tokens",
    )

    def __init__(
        self,
        text: str,
        author_handle: str = "",
        language: str = "",
        platform: str = "",
        urls: Sequence[str] = (),
    ) -> None:
        self._text = text
        self._urls = tuple(urls)
        self.tokens: tuple[str, ...] = tokenize(text)
        self.token_set: frozenset[str] = frozenset(self.tokens)
        self.author = _handle(author_handle)
        self.language = _language(language)
        self.platform = platform.strip().casefold()
        self._folded: str | None = None
        self._sorted: tuple[str, ...] | None = None
        self._hashtags: frozenset[str] | None = None
        self._haystack: str | None = None
        self._hosts: frozenset[str] | None = None

    @property
    def folded(self) -> str:
        """The text casefolded (accents kept)."""
        if self._folded is None:
            self._folded = self._text.casefold()
        return self._folded

    @property
    def hashtags(self) -> frozenset[str]:
        """Normalised hashtags of the text, without ``#``."""
        if self._hashtags is None:
            if "#" in self._text:
                found = _patterns()[1].findall(self.folded)
                self._hashtags = frozenset(map(_fold_hashtag, found))
            else:
                self._hashtags = frozenset()
        return self._hashtags

    @property
    def hosts(self) -> frozenset[str]:
        """Host names linked from the ``urls`` or written in the text, lower case."""
        if self._hosts is None:
            hosts = {_host_of(url) for url in self._urls}
            hosts.update(_HOST_RE.findall(self.folded))
            hosts.discard("")
            self._hosts = frozenset(hosts)
        return self._hosts

    def may_link_to(self, domain: str) -> bool:
        """A quick test: ``False`` when ``domain`` is written neither in the text nor urls."""
        if self._haystack is None:
            self._haystack = "\n".join((self.folded, *self._urls)).casefold()
        return domain in self._haystack

    def has_prefix(self, prefix: str) -> bool:
        """Whether a word starts with ``prefix``."""
        words = self._sorted
        if words is None:
            words = self._sorted = tuple(sorted(self.token_set))
        index = bisect_left(words, prefix)
        return index < len(words) and words[index].startswith(prefix)

    def contains(self, words: tuple[str, ...], prefix: bool = False) -> bool:
        """Whether the words appear in a row (the last one as a prefix if ``prefix``)."""
        if len(words) == 1:
            return self.has_prefix(words[0]) if prefix else words[0] in self.token_set
        token_set = self.token_set
        exact = words[:-1] if prefix else words
        for word in exact:
            if word not in token_set:
                return False
        if prefix and not self.has_prefix(words[-1]):
            return False
        tokens = self.tokens
        first, size, last = words[0], len(words), words[-1]
        limit = len(tokens) - size
        index = -1
        while True:
            try:
                index = tokens.index(first, index + 1)
            except ValueError:
                return False
            if index > limit:
                return False
            if not prefix:
                if tokens[index : index + size] == words:
                    return True
            elif tokens[index : index + size - 1] == exact and tokens[index + size - 1].startswith(
                last
            ):
                return True


@dataclass(frozen=True, slots=True)
class WatchDocument:
    """What a watch looks at in an item. Hashtags come from the text."""

    text: str
    author_handle: str = ""
    language: str = ""
    platform: str = ""
    urls: Sequence[str] = ()
    _prepared: PreparedDocument | None = field(
        default=None, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "urls", tuple(self.urls))

    @classmethod
    def from_text(
        cls,
        text: str | None,
        *,
        author_handle: str | None = None,
        language: str | None = None,
        platform: str | None = None,
        urls: Iterable[str] = (),
    ) -> WatchDocument:
        """A document from possibly missing values (``None`` counts as empty)."""
        return cls(
            text=text or "",
            author_handle=author_handle or "",
            language=language or "",
            platform=platform or "",
            urls=tuple(urls),
        )

    @classmethod
    def from_item(cls, item: NormalizedItem, platform: str = "") -> WatchDocument:
        """A connector's item; ``platform`` is the source's when the item does not say."""
        return cls.from_text(
            item.text,
            author_handle=item.author.handle,
            language=item.language,
            platform=item.platform or platform,
            urls=item.urls,
        )

    @property
    def hashtags(self) -> frozenset[str]:
        """Normalised hashtags of the text, without ``#``."""
        return self.prepared().hashtags

    def prepared(self) -> PreparedDocument:
        """The document prepared for matching, computed once and kept."""
        prepared = self._prepared
        if prepared is None:
            prepared = prepare(self)
            object.__setattr__(self, "_prepared", prepared)
        return prepared


def prepare(doc: WatchDocument) -> PreparedDocument:
    """Tokenise ``doc`` once to match it against many queries."""
    return PreparedDocument(doc.text, doc.author_handle, doc.language, doc.platform, doc.urls)


# --- the syntax tree ----------------------------------------------------------------------


class _Node:
    __slots__ = ()

    def match(self, doc: PreparedDocument) -> bool:
        raise NotImplementedError

    def positive_terms(self, negated: bool, out: list[str]) -> None:
        """Append the display form of the text terms not under an odd number of NOTs."""


@dataclass(frozen=True, slots=True)
class _Text(_Node):
    words: tuple[str, ...]
    prefix: bool
    display: str

    def match(self, doc: PreparedDocument) -> bool:
        return doc.contains(self.words, self.prefix)

    def positive_terms(self, negated: bool, out: list[str]) -> None:
        if not negated:
            out.append(self.display)

    def __str__(self) -> str:
        text = " ".join(self.words) + ("*" if self.prefix else "")
        return f'"{text}"' if len(self.words) > 1 else text


@dataclass(frozen=True, slots=True)
class _Hashtag(_Node):
    tag: str
    prefix: bool
    display: str

    def match(self, doc: PreparedDocument) -> bool:
        if not self.prefix:
            return self.tag in doc.hashtags
        return any(tag.startswith(self.tag) for tag in doc.hashtags)

    def positive_terms(self, negated: bool, out: list[str]) -> None:
        if not negated:
            out.append(self.display)

    def __str__(self) -> str:
        return f"#{self.tag}" + ("*" if self.prefix else "")


@dataclass(frozen=True, slots=True)
class _Author(_Node):
    handle: str

    def match(self, doc: PreparedDocument) -> bool:
        return _author_matches(self.handle, doc.author)

    def __str__(self) -> str:
        return f"from:{self.handle}"


@dataclass(frozen=True, slots=True)
class _Language(_Node):
    code: str

    def match(self, doc: PreparedDocument) -> bool:
        return _language_matches(self.code, doc.language)

    def __str__(self) -> str:
        return f"lang:{self.code}"


@dataclass(frozen=True, slots=True)
class _Platform(_Node):
    name: str

    def match(self, doc: PreparedDocument) -> bool:
        return doc.platform == self.name

    def __str__(self) -> str:
        return f"platform:{self.name}"


@dataclass(frozen=True, slots=True)
class _Domain(_Node):
    domain: str

    def match(self, doc: PreparedDocument) -> bool:
        domain, suffix = self.domain, "." + self.domain
        if not doc.may_link_to(domain):
            return False
        return any(host == domain or host.endswith(suffix) for host in doc.hosts)

    def __str__(self) -> str:
        return f"domain:{self.domain}"


@dataclass(frozen=True, slots=True)
class _Not(_Node):
    child: _Node

    def match(self, doc: PreparedDocument) -> bool:
        return not self.child.match(doc)

    def positive_terms(self, negated: bool, out: list[str]) -> None:
        self.child.positive_terms(not negated, out)

    def __str__(self) -> str:
        child = self.child
        return f"NOT ({child})" if isinstance(child, (_And, _Or)) else f"NOT {child}"


def _cost(node: _Node) -> int:
    """Rough cost of matching ``node``, to try the cheap conditions of an AND or OR first."""
    if isinstance(node, _Not):
        return _cost(node.child)
    if isinstance(node, (_Language, _Platform, _Author)):
        return 0
    if isinstance(node, _Text):
        return 1 if len(node.words) == 1 and not node.prefix else 2
    if isinstance(node, _Domain):
        return 4
    return 3


@dataclass(frozen=True, slots=True)
class _And(_Node):
    children: tuple[_Node, ...]
    ordered: tuple[_Node, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ordered", tuple(sorted(self.children, key=_cost)))

    def match(self, doc: PreparedDocument) -> bool:
        for child in self.ordered:
            if not child.match(doc):
                return False
        return True

    def positive_terms(self, negated: bool, out: list[str]) -> None:
        for child in self.children:
            child.positive_terms(negated, out)

    def __str__(self) -> str:
        return " AND ".join(f"({c})" if isinstance(c, _Or) else str(c) for c in self.children)


@dataclass(frozen=True, slots=True)
class _Or(_Node):
    children: tuple[_Node, ...]
    ordered: tuple[_Node, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ordered", tuple(sorted(self.children, key=_cost)))

    def match(self, doc: PreparedDocument) -> bool:
        for child in self.ordered:
            if child.match(doc):
                return True
        return False

    def positive_terms(self, negated: bool, out: list[str]) -> None:
        for child in self.children:
            child.positive_terms(negated, out)

    def __str__(self) -> str:
        return " OR ".join(f"({c})" if isinstance(c, _And) else str(c) for c in self.children)


# The tree's node types under public names, for the engines that translate a parsed query
# (:attr:`Query.root`) into their own; the nodes are frozen, built by :func:`parse` only.
Node = _Node
TextTerm = _Text
HashtagTerm = _Hashtag
AuthorTerm = _Author
LanguageTerm = _Language
PlatformTerm = _Platform
DomainTerm = _Domain
NotNode = _Not
AndNode = _And
OrNode = _Or


# --- lexer --------------------------------------------------------------------------------

_OPERATORS = {
    "and": "AND",
    "et": "AND",
    "or": "OR",
    "ou": "OR",
    "not": "NOT",
    "sauf": "NOT",
    "non": "NOT",
}
_FIELDS = {
    "from": "from",
    "auteur": "from",
    "lang": "lang",
    "langue": "lang",
    "platform": "platform",
    "plateforme": "platform",
    "domain": "domain",
    "domaine": "domain",
    "site": "domain",
}
_QUOTES = {'"': '"', "“": "”", "«": "»", "„": "“"}
_EDGE_PUNCTUATION_RE = re.compile(r"^[^\w#@]+|[^\w*]+$")
_WORD_STOP = frozenset("()") | frozenset(_QUOTES)
_FIELD_RE = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)
_HANDLE_RE = re.compile(r"[\w.-]+(?:@[\w.-]+\.[\w-]+)?")
_LANGUAGE_RE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{1,8})*")
_PLATFORM_RE = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_DOMAIN_RE = re.compile(r"(?:[\w](?:[\w-]*[\w])?\.)+[\w-]{2,63}")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(", ")", "AND", "OR", "NOT", "-", "TERM"
    text: str
    position: int
    node: _Node | None = None


def _lex(query: str) -> list[_Token]:
    tokens: list[_Token] = []
    index, size = 0, len(query)
    while index < size:
        char = query[index]
        if char.isspace():
            index += 1
        elif char in "()":
            tokens.append(_Token(char, char, index))
            index += 1
        elif char in _QUOTES:
            close = query.find(_QUOTES[char], index + 1)
            if close < 0:
                raise WatchQueryError("unclosed_quote", index)
            content = query[index + 1 : close]
            if not content.strip():
                raise WatchQueryError("empty_quotes", index)
            node = _text_node(content, index + 1, query[index : close + 1])
            tokens.append(_Token("TERM", query[index : close + 1], index, node))
            index = close + 1
        elif char == "-":
            following = query[index + 1 : index + 2]
            if not following or following.isspace() or following == ")":
                raise WatchQueryError("missing_term_after", index, operator="-")
            tokens.append(_Token("-", "-", index))
            index += 1
        else:
            end = index
            while end < size and not query[end].isspace() and query[end] not in _WORD_STOP:
                end += 1
            word = query[index:end]
            operator = _OPERATORS.get(word.casefold())
            if operator is not None:
                tokens.append(_Token(operator, word, index))
            else:
                tokens.append(_Token("TERM", word, index, _term_node(word, index)))
            index = end
    return tokens


def _text_node(content: str, position: int, shown: str) -> _Text:
    """A word or phrase; ``content`` starts at ``position`` in the query."""
    stripped = content.rstrip()
    prefix = stripped.endswith("*")
    if prefix:
        stripped = stripped[:-1]
    if "*" in stripped:
        raise WatchQueryError("bad_wildcard", position + stripped.index("*"))
    star = position + len(stripped)
    if prefix and not re.search(r"\w$", stripped):
        raise WatchQueryError("bad_wildcard", star)
    words = tokenize(stripped)
    if not words:
        raise WatchQueryError("no_words", position, value=shown)
    if prefix:
        if len(words[-1]) < MIN_WILDCARD_STEM:
            raise WatchQueryError("wildcard_too_short", star, limit=MIN_WILDCARD_STEM)
    return _Text(words, prefix, _display(content))


def _display(content: str) -> str:
    """``content`` without surrounding spaces and punctuation ("attention:" -> "attention")."""
    content = content.strip()
    return _EDGE_PUNCTUATION_RE.sub("", content) or content


def _term_node(word: str, position: int) -> _Node:
    if word.startswith("#"):
        return _hashtag_node(word, position)
    if word.startswith("@"):
        return _author_node(word[1:], "@", position)
    match = _FIELD_RE.fullmatch(word)
    kind = _FIELDS.get(match.group(1).casefold()) if match is not None else None
    if match is not None and (kind is not None or match.group(2)[:1] not in ("", "/")):
        # "attention:" and pasted links "https://..." are plain text.
        name, value = match.group(1), match.group(2)
        if kind is None:
            raise WatchQueryError("unknown_field", position, field=f"{name}:")
        if not value:
            raise WatchQueryError("empty_value", position, field=f"{name}:")
        value_position = position + len(name) + 1
        if kind == "from":
            return _author_node(value, f"{name}:", value_position)
        if kind == "lang":
            code = _language(value)
            if not _LANGUAGE_RE.fullmatch(code):
                raise WatchQueryError(
                    "invalid_value", value_position, field=f"{name}:", value=value
                )
            return _Language(code)
        if kind == "platform":
            platform = value.casefold()
            if not _PLATFORM_RE.fullmatch(platform):
                raise WatchQueryError(
                    "invalid_value", value_position, field=f"{name}:", value=value
                )
            return _Platform(platform)
        return _domain_node(value, f"{name}:", value_position)
    return _text_node(word, position, word)


def _hashtag_node(word: str, position: int) -> _Hashtag:
    body = word[1:]
    prefix = body.endswith("*")
    if prefix:
        body = body[:-1]
    if "*" in body:
        raise WatchQueryError("bad_wildcard", position + 1 + body.index("*"))
    if not body:
        raise WatchQueryError("empty_value", position, field="#")
    if not _patterns()[1].fullmatch("#" + body.casefold()):
        raise WatchQueryError("invalid_value", position, field="#", value=word)
    tag = _fold_hashtag(body.casefold())
    if not tag:
        raise WatchQueryError("invalid_value", position, field="#", value=word)
    if prefix and len(tag) < MIN_WILDCARD_STEM:
        raise WatchQueryError("wildcard_too_short", position, limit=MIN_WILDCARD_STEM)
    return _Hashtag(tag, prefix, word)


def _author_node(value: str, field_name: str, position: int) -> _Author:
    handle = _handle(value)
    if not handle:
        raise WatchQueryError("empty_value", position, field=field_name)
    if not _HANDLE_RE.fullmatch(handle):
        raise WatchQueryError("invalid_value", position, field=field_name, value=value)
    return _Author(handle)


def _domain_node(value: str, field_name: str, position: int) -> _Domain:
    domain = _host_of(value)
    if domain.startswith("www."):
        domain = domain[4:]
    if not _DOMAIN_RE.fullmatch(domain):
        raise WatchQueryError("invalid_value", position, field=field_name, value=value)
    return _Domain(domain)


# --- parser -------------------------------------------------------------------------------

_STARTS_UNARY = frozenset({"TERM", "(", "NOT", "-"})


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect_operand(self, operator: _Token) -> None:
        following = self.peek()
        if following is None or following.kind not in _STARTS_UNARY:
            raise WatchQueryError("missing_term_after", operator.position, operator=operator.text)

    def parse_or(self, depth: int) -> _Node:
        children = [self.parse_and(depth)]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            self.expect_operand(token)
            children.append(self.parse_and(depth))
        return children[0] if len(children) == 1 else _Or(tuple(children))

    def parse_and(self, depth: int) -> _Node:
        children = [self.parse_unary(depth)]
        while (token := self.peek()) is not None:
            if token.kind == "AND":
                self.take()
                self.expect_operand(token)
            elif token.kind not in _STARTS_UNARY:
                break
            children.append(self.parse_unary(depth))
        return children[0] if len(children) == 1 else _And(tuple(children))

    def parse_unary(self, depth: int) -> _Node:
        token = self.take()
        if token.kind in ("NOT", "-", "("):
            if depth >= MAX_DEPTH:
                raise WatchQueryError("too_complex", token.position, limit=MAX_DEPTH)
        if token.kind in ("NOT", "-"):
            self.expect_operand(token)
            return _Not(self.parse_unary(depth + 1))
        if token.kind == "(":
            following = self.peek()
            if following is not None and following.kind == ")":
                raise WatchQueryError("empty_parens", token.position)
            if following is None:
                raise WatchQueryError("unclosed_paren", token.position)
            inner = self.parse_or(depth + 1)
            closing = self.peek()
            if closing is None:
                raise WatchQueryError("unclosed_paren", token.position)
            self.take()
            return inner
        if token.kind == "TERM":
            assert token.node is not None
            return token.node
        if token.kind == ")":
            raise WatchQueryError("unexpected_paren", token.position)
        raise WatchQueryError("missing_term_before", token.position, operator=token.text)


# --- the public face ----------------------------------------------------------------------

_EMPTY = PreparedDocument("")


class Query:
    """A parsed query; build it with :func:`parse`."""

    __slots__ = ("_root", "source")

    def __init__(self, source: str, root: _Node) -> None:
        self.source = source
        self._root = root

    def matches(self, doc: WatchDocument | PreparedDocument) -> bool:
        """Whether ``doc`` matches; a :class:`WatchDocument` is prepared once and kept."""
        prepared = doc.prepared() if isinstance(doc, WatchDocument) else doc
        return self._root.match(prepared)

    @property
    def root(self) -> Node:
        """The syntax tree, for the engines that run the query elsewhere (a database's
        search: ``beffroi.items.search``); its nodes are ``TextTerm``, ``AndNode`` and the like."""
        return self._root

    def terms(self) -> tuple[str, ...]:
        """The words, phrases (unquoted) and hashtags looked for, not the excluded ones,
        as typed (wildcards keep their ``*``), without duplicates."""
        found: list[str] = []
        self._root.positive_terms(False, found)
        return tuple(dict.fromkeys(found))

    def to_platform_search(self) -> str:
        """The positive terms OR-joined for platform search APIs: phrases quoted, wildcards
        dropped (``eau*`` searches ``eau``). Empty when the query has no text term."""
        parts: list[str] = []
        for term in self.terms():
            if term.startswith("#"):
                parts.append(term.rstrip("*"))
                continue
            text = " ".join(term.rstrip("*").split())
            text = text.strip('"“”«»„ ')
            if not text:
                continue
            parts.append(f'"{text}"' if len(tokenize(text)) > 1 else text)
        return " OR ".join(dict.fromkeys(parts))

    def __str__(self) -> str:
        """The query as the parser understood it, with explicit operators."""
        return str(self._root)

    def __repr__(self) -> str:
        return f"Query({self.source!r})"


def parse(query: str) -> Query:
    """Parse what a person typed; raise :class:`WatchQueryError` on a mistake."""
    if len(query) > MAX_QUERY_LENGTH:
        raise WatchQueryError("too_long", MAX_QUERY_LENGTH, limit=MAX_QUERY_LENGTH)
    tokens = _lex(query)
    if not tokens:
        raise WatchQueryError("empty_query", 0)
    parser = _Parser(tokens)
    root = parser.parse_or(0)
    leftover = parser.peek()
    if leftover is not None:  # parse_or stops only at the end or at a ")"
        raise WatchQueryError("unexpected_paren", leftover.position)
    if root.match(_EMPTY):
        raise WatchQueryError("only_exclusions", 0)
    return Query(query, root)


@dataclass(frozen=True, slots=True)
class Watch:
    """A saved search: a query plus optional restrictions to languages, accounts and
    platforms (each empty tuple means "any"). An empty query follows everything the
    restrictions let through; a watch needs one or the other."""

    name: str
    query: str = ""
    languages: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    _parsed: Query | None = field(default=None, init=False, repr=False, compare=False)
    _restrictions: tuple[tuple[str, ...], tuple[str, ...], frozenset[str]] = field(
        default=((), (), frozenset()), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        languages = tuple(_language(code) for code in self.languages if code.strip())
        accounts = tuple(_handle(handle) for handle in self.accounts if _handle(handle))
        platforms = frozenset(name.strip().casefold() for name in self.platforms if name.strip())
        if self.query.strip():
            object.__setattr__(self, "_parsed", parse(self.query))
        elif not (languages or accounts or platforms):
            raise WatchQueryError("empty_query", 0)
        object.__setattr__(self, "_restrictions", (languages, accounts, platforms))

    @property
    def parsed(self) -> Query | None:
        """The parsed query, ``None`` when the watch only has restrictions."""
        return self._parsed

    def matches(self, doc: WatchDocument | PreparedDocument) -> bool:
        """Whether ``doc`` passes the restrictions and the query."""
        prepared = doc.prepared() if isinstance(doc, WatchDocument) else doc
        languages, accounts, platforms = self._restrictions
        if platforms and prepared.platform not in platforms:
            return False
        if languages and not any(_language_matches(c, prepared.language) for c in languages):
            return False
        if accounts and not any(_author_matches(a, prepared.author) for a in accounts):
            return False
        return self._parsed is None or self._parsed.matches(prepared)
