"""Undo the usual evasions before any detector looks at a comment.

People who want a hateful word past a filter write it ``c0nnard``, ``c.o.n.n.a.r.d``,
``соnnard`` (Cyrillic о), ``𝐜𝐨𝐧𝐧𝐚𝐫𝐝``, ``connnnnard`` or ``con\u200bnard``. :func:`normalize`
folds all of these to ``connard`` while leaving ordinary text meaningful: numbers
("3 rue de la Paix", "12h30", "2024"), French elisions ("l'école", "c'est"), initials
("M. le maire") and Arabic script are kept.

Steps, in order (each one documented where it is done):

1. NFKC (fullwidth, mathematical and circled letters, ligatures, Arabic presentation forms);
   zero-width and bidi control characters removed.
2. Emoji replaced by `` emoji_<name> `` (CLDR short name, skin tones dropped).
3. E-mail addresses, URLs, mentions and hashtags extracted. URLs become `` url ``, mentions
   `` @user ``; hashtags are split on case changes (``#MortAuxX`` → ``mort aux x``);
   e-mail addresses stay in the text, verbatim, so personal-data rules can see them.
4. Case folded; confusable letters of other scripts folded to Latin (when the text is mainly
   Latin, or inside a word that mixes scripts), Latin diacritics removed, Arabic folded
   (tashkeel and tatweel removed; alef, ya, hamza carriers and ta marbuta unified;
   Arabic-Indic digits to ASCII).
5. Separators inside words joined (``c.o.n``, ``k i l l``, ``c-o-n``, ``c_o_n``).
6. Leetspeak undone inside words that mix letters and digits/symbols (``n1qu3`` → ``nique``).
7. Runs of three or more identical letters squeezed to two (``connnnard`` → ``connard``,
   ``nuuuul`` → ``nuul``): two, not one, so that real double letters survive; the rule
   detector treats a letter written once or twice alike where the rule says so.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from beffroi.analysis.text_bound import analysed_text

__all__ = ["NormalizedText", "fold_letters", "normalize", "token_spans"]


@dataclass(frozen=True)
class NormalizedText:
    """A comment as posted (``original``) and as detectors should read it (``text``)."""

    original: str
    text: str
    urls: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    emojis: tuple[str, ...] = ()
    tokens: tuple[str, ...] = ()
    emails: tuple[str, ...] = field(default=())


# --- Character tables, built once -------------------------------------------------------

# Invisible characters used to split words without a visible trace. The zero-width joiner
# (U+200D) is kept until emoji are replaced, because emoji sequences need it.
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b\u200c\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\U000e0000-\U000e007f"
)
# Private-use characters (plane 15) are removed too: they serve as placeholders below.
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}\U000f0000-\U000fffff]")
# The joiner between two non-emoji characters is an evasion, not an emoji sequence.
_STRAY_ZWJ_RE = re.compile("\u200d(?![\u2600-\u27bf\U0001f000-\U0001faff])")
_SKIN_TONE_RE = re.compile("[\U0001f3fb-\U0001f3ff]")
# Private-use characters are used internally as placeholders for protected spans.
_PLACEHOLDER_BASE = 0xF0000
_PLACEHOLDER_RE = re.compile("[\U000f0000-\U000fffff]")

# Other scripts whose letters look like Latin ones (Cyrillic а, Greek ο, Armenian օ,
# Cherokee Ꭺ, Coptic, Lisu, Canadian syllabics). Arabic and Hebrew are never folded.
_FOLDABLE_SCRIPTS = ("CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC", "LISU", "CANADIAN")
_OTHER_SCRIPT_RE = re.compile(
    "[\u0370-\u03ff\u1f00-\u1fff\u0400-\u052f\u1c80-\u1c8f\u2de0-\u2dff\ua640-\ua69f"
    "\u0530-\u058f\u13a0-\u13ff\uab70-\uabbf\u2c80-\u2cff\ua4d0-\ua4ff\u1400-\u167f]"
)
_LATIN_LETTER_RE = re.compile("[a-z]")

_ARABIC_FOLD: dict[int, str | None] = {
    **{cp: None for cp in range(0x064B, 0x0660)},  # tashkeel (harakat, shadda, sukun…)
    0x0670: None,  # superscript alef
    **{cp: None for cp in range(0x06D6, 0x06DD)},  # Quranic annotation marks
    **{cp: None for cp in range(0x06DF, 0x06E9)},
    **{cp: None for cp in range(0x06EA, 0x06EE)},
    0x0640: None,  # tatweel (kashida), used to stretch words past filters
    0x0622: "\u0627",  # alef with madda → alef
    0x0623: "\u0627",  # alef with hamza above → alef
    0x0625: "\u0627",  # alef with hamza below → alef
    0x0671: "\u0627",  # alef wasla → alef
    0x0649: "\u064a",  # alef maksura → ya
    0x06CC: "\u064a",  # Farsi ya → ya
    0x0626: "\u064a",  # ya with hamza → ya
    0x0624: "\u0648",  # waw with hamza → waw
    0x0629: "\u0647",  # ta marbuta → ha
    0x06A9: "\u0643",  # keheh → kaf
    0x060C: ",",
    0x061B: ";",
    0x061F: "?",
    **{0x0660 + d: str(d) for d in range(10)},  # Arabic-Indic digits
    **{0x06F0 + d: str(d) for d in range(10)},  # extended Arabic-Indic digits
}

_PUNCTUATION_FOLD: dict[int, str | None] = {
    **{ord(c): '"' for c in "\u201c\u201d\u201e\u201f\u2033\u02ba\u02dd"},
    **{ord(c): "'" for c in "\u2018\u2019\u201a\u201b\u2032\u02b9\u02bc\u0060\u00b4"},
    **{ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"},
    0x200D: None,  # zero-width joiner (left over once emoji are replaced)
    0xFE0E: None,  # variation selectors
    0xFE0F: None,
    0x20E3: None,  # combining keycap
}

# Combining marks: diacritics and the "Zalgo" marks stacked on letters to evade filters.
_COMBINING_RANGES = (
    (0x0300, 0x036F),
    (0x0483, 0x0489),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
)

_LATIN_SPECIAL = {"æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "ł": "l", "ŀ": "l"}
_LATIN_SPECIAL |= {"ħ": "h", "ŧ": "t", "ı": "i", "ȷ": "j", "þ": "th", "ß": "ss", "ſ": "s"}


def _latin_fold() -> dict[int, str | None]:
    """Latin letters with diacritics → the bare letter (é → e, ç → c, ñ → n)."""
    table: dict[int, str | None] = {ord(k): v for k, v in _LATIN_SPECIAL.items()}
    for low, high in ((0x00C0, 0x024F), (0x1E00, 0x1EFF)):
        for cp in range(low, high + 1):
            char = chr(cp)
            base = unicodedata.normalize("NFD", char)[0].casefold()
            if base != char and len(base) == 1 and "a" <= base <= "z":
                table[cp] = base
    for low, high in _COMBINING_RANGES:
        for cp in range(low, high + 1):
            table[cp] = None
    return table


def _confusable_folds() -> tuple[dict[int, str], dict[int, str]]:
    """Letters that look like a Latin letter: (always folded, folded in mostly-Latin text).

    Built from Unicode's confusables data (via ``confusable-homoglyphs``); only letters of
    the scripts above and non-ASCII Latin look-alikes (small capitals, ``ɑ``…) are kept.
    """
    from confusable_homoglyphs.utils import load

    data: dict[str, list[dict[str, str]]] = load("confusables.json")
    always: dict[int, str] = {}
    other_script: dict[int, str] = {}
    # Lowercase look-alikes first, so that they win over the case-folded form of capitals.
    for latin in [*"abcdefghijklmnopqrstuvwxyz", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ"]:
        target = latin.lower()
        for homoglyph in data.get(latin, []):
            char = homoglyph["c"].strip("\u200e\u200f")
            if len(char) != 1 or char.isascii() or not unicodedata.category(char).startswith("L"):
                continue
            name = unicodedata.name(char, "")
            # Map the character and its case-folded form (text is case-folded first).
            for candidate in (char, char.casefold()):
                if len(candidate) != 1 or candidate.isascii():
                    continue
                if name.startswith("LATIN") or name.startswith("MODIFIER"):
                    always.setdefault(ord(candidate), target)
                elif name.startswith(_FOLDABLE_SCRIPTS):
                    other_script.setdefault(ord(candidate), target)
    # Small capitals and other plain-letter variants of Latin ("ᴄᴏɴɴᴀʀᴅ", "ɢ", "ꜱ").
    for cp in (*range(0x0180, 0x02B0), *range(0x1D00, 0x1DC0), *range(0xA720, 0xA800)):
        match = _PLAIN_LATIN_NAME_RE.fullmatch(unicodedata.name(chr(cp), ""))
        if match:
            always.setdefault(cp, match.group(1).lower())
    return always, other_script


_PLAIN_LATIN_NAME_RE = re.compile(
    r"LATIN (?:SMALL |CAPITAL )?LETTER (?:SMALL CAPITAL |SCRIPT )?([A-Z])"
)


def _build_tables() -> tuple[dict[int, str | None], dict[int, str | None]]:
    always, other_script = _confusable_folds()
    base: dict[int, str | None] = {}
    base.update(always)
    base.update(_latin_fold())
    base.update(_ARABIC_FOLD)
    base.update(_PUNCTUATION_FOLD)
    full: dict[int, str | None] = dict(base)
    full.update(other_script)
    return base, full


_BASE_TABLE, _FULL_TABLE = _build_tables()
_TOKEN_WORD_RE = re.compile(r"\w+")


# --- Emoji ---------------------------------------------------------------------------------


# A cheap superset of the characters an emoji can start with (keycaps: U+20E3, U+FE0F);
# the emoji library does the exact work only when one is present.
_EMOJI_PREFILTER = re.compile(
    "[\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2b55\u3030\u303d\u3297\u3299"
    "\U0001f000-\U0001faff\u20e3\ufe0f]"
)
_NAME_CLEAN_RE = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)
def _emoji_token(name: str) -> str:
    return "emoji_" + _NAME_CLEAN_RE.sub("_", name.strip(":").casefold()).strip("_")


def _replace_emoji(text: str, found: list[str]) -> str:
    import emoji

    def replace(chars: str, data: dict[str, str]) -> str:
        found.append(chars)
        return f" {_emoji_token(data.get('en', 'emoji'))} "

    return emoji.replace_emoji(_SKIN_TONE_RE.sub("", text), replace=replace)


# --- URLs, e-mails, mentions, hashtags ------------------------------------------------------

# Top-level domains accepted for a bare domain written without http:// or www. Kept to
# common and commonly abused ones, so that "fin.Le" or "c.o.n" is never taken for a link.
_BARE_TLDS = (
    "com|net|org|info|biz|fr|be|ch|ca|lu|mc|eu|uk|nl|pt|ru|su|ua|cn|br|ma|dz|tn|sa|ae|eg|qa|io|"
    "tv|ly|gg|cc|ws|pw|tk|ml|ga|cf|gq|xyz|top|site|online|club|shop|store|live|link|click|app|"
    "dev|news|blog|icu|cfd|sbs|buzz|rest|bond|win|vip|fun|space|website|tech|pro|today|life|"
    "world|gov|edu|gouv\\.fr|co\\.uk"
)
# Top-level domains that are also everyday words ("merci.De rien", "fini.Me voilà"): taken
# for a link only when a path follows ("t.me/canal").
_BARE_TLDS_WITH_PATH = "me|de|es|it|no|is|at|in|co|se|us|pl|dk|fi|ie|gl|gd|ph|to|la|ai"
_EMAIL_RE = re.compile(r"(?<![\w.+@-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}\b")
_URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'«»]+"
    r"|(?<![\w@.\-/])(?:[\w-]+\.)*(?:[\w-]{2,}|\w(?=\.\w+/))\."
    r"(?:(?:" + _BARE_TLDS + r")\b|(?:" + _BARE_TLDS_WITH_PATH + r")(?=/))(?:/[^\s<>\"'«»]*)?",
    re.IGNORECASE,
)
_URL_TRAILING = ".,;:!?)]}'\"»…"
_MENTION_RE = re.compile(
    r"(?<![\w@/.])@(\w(?:[\w.]*\w)?)(?:@([\w-]+(?:\.[\w-]+)+))?",
)
_HASHTAG_RE = re.compile(r"(?<![\w#&/])#(\w+)")
_CAMEL_RE = re.compile(r"(?<=[^\W\d_])(?=[A-Z][a-z])|(?<=[a-z])(?=[A-Z])|_")
_TRACKING_PARAMS = frozenset(
    "fbclid gclid dclid gbraid wbraid msclkid yclid twclid igshid igsh mc_cid mc_eid "
    "_hsenc _hsmi ref_src ref_url si spm mkt_tok oly_anon_id oly_enc_id vero_id".split()
)


def _clean_url(raw: str) -> tuple[str, str]:
    """The URL without tracking parameters, and its host name without ``www.``."""
    url = raw if "://" in raw else "http://" + raw
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").strip(".")
    except ValueError:
        return raw, ""
    if host.startswith("www."):
        host = host[4:]
    if parts.query:
        kept = [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if key.casefold() not in _TRACKING_PARAMS and not key.casefold().startswith("utm_")
        ]
        query = urlencode(kept)
        cleaned = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
        if raw is not url:
            cleaned = cleaned.removeprefix("http://")
        return cleaned, host
    return raw, host


# --- Word-level folding --------------------------------------------------------------------

_LETTER = "a-z\u0621-\u064a"
_ITEM = f"{_LETTER}0-9$€@"
# ≥3 single characters separated each time by the same separator ("c.o.n", "k i l l").
_SPACED_RE = re.compile(
    rf"(?<![{_ITEM}])[{_ITEM}](?P<sep>[ .\-_*·•+~/|\\]{{1,3}})[{_ITEM}](?:(?P=sep)[{_ITEM}])+(?![{_ITEM}])"
)
_SPACED_STRIP_RE = re.compile(r"[ .\-_*·•+~/|\\]")
# The same, in a text whose case is kept (what the sentence encoder reads).
_SPACED_ANY_CASE_RE = re.compile(_SPACED_RE.pattern, re.IGNORECASE)
# Standalone one-letter words (French "a", "à", "y", English "I", "a", "o"): three of them in a
# row ("il y a à boire") are a sentence, not a spaced-out word.
_ONE_LETTER_WORDS = frozenset("aiyo")

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "9": "g"})
_LEET_SYMBOLS = str.maketrans({"@": "a", "$": "s", "€": "e", "!": "i"})
# A run of word characters and leet symbols where a Latin letter touches a leet character.
# A Latin letter touching a leet character: only then is any word looked at.
_LEET_HINT_RE = re.compile(r"[a-z][0134579$€@!]|[0134579$€@][a-z]")
_LEET_WORD_RE = re.compile(r"[\w$€@!]+")
_DIGITS_RE = re.compile(r"\d")
# Numbers with a unit or an ordinal (12h30, 1er, 3e, 10km, 4x4, 5g), letters followed by
# a number (covid19, fr76, a380), long codes (IBAN fragments): never leetspeak.
_NUMBER_LIKE_RE = re.compile(r"\d+[a-z]{1,3}\d*|\d{2,}[a-z]+\d*|[a-z]+\d{2,}|[a-z]{1,2}\d")
_REPEAT_HINT_RE = re.compile(r"(.)\1\1")
_REPEAT_RE = re.compile(r"([^\W\d_])\1{2,}")
_TOKEN_RE = re.compile(r"\w+")
_TOKEN_WITH_MENTIONS_RE = re.compile(r"@user\b|\w+")
_URL_HINT_RE = re.compile(r"\.[^\W\d_]")
_NON_ASCII_RUN_RE = re.compile(r"[^\x00-\x7f]+")


def _join_spaced(match: re.Match[str]) -> str:
    run = match.group(0)
    separator = match.group("sep")
    items = _SPACED_STRIP_RE.sub("", run)
    letters = sum(1 for char in items if not char.isdigit() and char not in "$€@")
    if letters < 2:
        return run
    if separator.isspace():
        # Spaced words must be letters only ("à 3 h" is a time), and not one-letter words.
        if letters != len(items) or all(char.casefold() in _ONE_LETTER_WORDS for char in items):
            return run
    return items


def join_spaced_letters(text: str) -> str:
    """``text`` with its letters spaced out to evade a filter joined ("M u s l i m s",
    "k.i.l.l"), case and everything else kept: the spacing repair of :func:`normalize`, for
    readers that want the text as written (the sentence encoder)."""
    return _SPACED_ANY_CASE_RE.sub(_join_spaced, text)


def _undo_leet(match: re.Match[str]) -> str:
    word = match.group(0)
    core = word.rstrip("!")  # "connard!" ends a sentence, it is not "connardi"
    if not core or core.startswith("@") or "_" in core or not _LEET_HINT_RE.search(core):
        return word
    if _NUMBER_LIKE_RE.fullmatch(core) or len(_DIGITS_RE.findall(core)) >= 5:
        return word
    return core.translate(_LEET).translate(_LEET_SYMBOLS) + word[len(core) :]


def _fold_mixed_token(match: re.Match[str]) -> str:
    word = match.group(0)
    if _LATIN_LETTER_RE.search(word) and _OTHER_SCRIPT_RE.search(word):
        return word.translate(_FULL_TABLE)
    return word


def _translate_base(match: re.Match[str]) -> str:
    return match.group(0).translate(_BASE_TABLE)


def _fold_characters(text: str) -> str:
    """Case fold, then fold confusables, diacritics and Arabic letter forms."""
    text = text.casefold()
    if text.isascii():
        return text
    if not _OTHER_SCRIPT_RE.search(text):
        # Translating only the non-ASCII runs is several times faster on Latin text.
        return _NON_ASCII_RUN_RE.sub(_translate_base, text)
    others = len(_OTHER_SCRIPT_RE.findall(text))
    latin = len(_LATIN_LETTER_RE.findall(text.translate(_BASE_TABLE)))
    if latin >= others:
        return text.translate(_FULL_TABLE)
    # Mainly Cyrillic or Greek: fold only words that mix scripts, keep the language readable.
    return _TOKEN_WORD_RE.sub(_fold_mixed_token, text.translate(_BASE_TABLE))


def _split_hashtag(tag: str) -> str:
    return " " + _CAMEL_RE.sub(" ", tag) + " "


def normalize(text: str) -> NormalizedText:
    """Fold ``text`` for detectors and extract its links, mentions, hashtags and emoji.

    A text longer than the analysis bound is read as its head and tail
    (:func:`~beffroi.analysis.text_bound.analysed_text`): ``original`` is that part."""
    text = original = analysed_text(text)
    emojis: list[str] = []
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        text = _INVISIBLE_RE.sub("", text)
        if "\u200d" in text:
            text = _STRAY_ZWJ_RE.sub("", text)
        if _EMOJI_PREFILTER.search(text):
            text = _replace_emoji(text, emojis)

    emails: list[str] = []
    urls: list[str] = []
    domains: list[str] = []
    mentions: list[str] = []
    hashtags: list[str] = []
    protected: list[str] = []

    if "@" in text:

        def protect_email(match: re.Match[str]) -> str:
            address = match.group(0).casefold()
            emails.append(address)
            protected.append(address)
            return f" {chr(_PLACEHOLDER_BASE + len(protected) - 1)} "

        text = _EMAIL_RE.sub(protect_email, text)

    if "." in text and _URL_HINT_RE.search(text):

        def replace_url(match: re.Match[str]) -> str:
            raw = match.group(0)
            trailing = ""
            while raw and raw[-1] in _URL_TRAILING:
                trailing = raw[-1] + trailing
                raw = raw[:-1]
            cleaned, host = _clean_url(raw)
            urls.append(cleaned)
            if host:
                domains.append(host.casefold())
            return " url " + trailing

        text = _URL_RE.sub(replace_url, text)

    if "@" in text:

        def replace_mention(match: re.Match[str]) -> str:
            handle = match.group(1).casefold()
            if match.group(2):
                handle += "@" + match.group(2).casefold()
            mentions.append("@" + handle)
            return " @user "

        text = _MENTION_RE.sub(replace_mention, text)

    if "#" in text:

        def replace_hashtag(match: re.Match[str]) -> str:
            tag = match.group(1)
            hashtags.append(tag.casefold())
            return _split_hashtag(tag)

        text = _HASHTAG_RE.sub(replace_hashtag, text)

    text = _fold_characters(text)
    text = _SPACED_RE.sub(_join_spaced, text)
    if _LEET_HINT_RE.search(text):
        text = _LEET_WORD_RE.sub(_undo_leet, text)
    if _REPEAT_HINT_RE.search(text):
        text = _REPEAT_RE.sub(r"\1\1", text)
    text = " ".join(text.split())
    if protected:
        text = _PLACEHOLDER_RE.sub(lambda m: protected[ord(m.group(0)) - _PLACEHOLDER_BASE], text)

    return NormalizedText(
        original=original,
        text=text,
        urls=tuple(urls),
        domains=tuple(domains),
        mentions=tuple(mentions),
        hashtags=tuple(hashtags),
        emojis=tuple(emojis),
        tokens=tuple((_TOKEN_WITH_MENTIONS_RE if mentions else _TOKEN_RE).findall(text)),
        emails=tuple(emails),
    )


def token_spans(text: str) -> list[tuple[int, int]]:
    """Character offsets of :attr:`NormalizedText.tokens` in :attr:`NormalizedText.text`."""
    return [match.span() for match in _TOKEN_WITH_MENTIONS_RE.finditer(text)]


def fold_letters(pattern: str) -> str:
    """Fold diacritics, Latin look-alikes and Arabic letter forms, and nothing else.

    For regular expressions written by people: ``é`` becomes ``e`` and ``أ`` becomes ``ا`` as
    in normalized text, while ASCII (escapes such as ``\\D`` or ``\\S``) is left alone.
    """
    return _NON_ASCII_RUN_RE.sub(_translate_base, pattern)
