"""Keyword, phrase, regular-expression and domain rules, per charter category and language.

Rules read the :func:`~.normalize.normalize`-d text, so a rule written ``connard`` also catches
``c0nnard``, ``c.o.n.n.a.r.d`` and ``соnnard``. Rule lists are YAML (see
``docs/moderation.md``, "Normalization and rules"); the project ships French, English and
Arabic defaults under ``data/rules/``.

Pattern syntax, for ``keyword`` and ``phrase`` rules (both match whole tokens):

* ``connard`` — the word, with its inflections (French plural and feminine, English plural,
  Arabic clitics such as ``ال``/``و``/``لل`` and plural/feminine endings) and with any letter
  it writes once also accepted twice (``conard`` is not ``connard``, ``nuul`` is ``nul``);
* ``encul*`` — any word starting so (at least three letters before the star);
* ``a|b|c`` — one of several words; ``(je vais|j'vais)`` — alternatives that may hold several
  words; ``[vraiment|bien]`` — an optional slot; ``*`` — any one word;
* ``{group}`` (in YAML only) — the words of a group defined under ``groups:``; it is
  expanded when the list is read, so a :class:`RuleSpec` is always self-contained.

``regex`` rules run on the normalized text (lowercase, no diacritics, Arabic folded); ``domain``
rules match the domains of the links in the text and their subdomains.

Scores: each rule that matches contributes its ``weight`` to its category, and a category's
score is the sum, clipped to 1. For hate, terrorism, threats, harassment and insults, a match
is dampened when a negation precedes it ("I don't hate women"), when it sits inside quotation
marks, or when the comment speaks *about* such words ("... est inacceptable") — see
:data:`DAMPING`.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, TypeGuard, get_args

import yaml

from .normalize import NormalizedText, fold_letters, normalize, token_spans
from .signals import CATEGORIES, Signal

__all__ = [
    "DAMPING",
    "RuleDetector",
    "RuleSpec",
    "dump_rules_yaml",
    "is_rule_kind",
    "load_default_rules",
    "parse_rules_yaml",
]

RuleKind = Literal["keyword", "phrase", "regex", "domain"]
_GROUP_REF_RE = re.compile(r"\{([A-Za-z_][\w-]*)\}")
RULE_KINDS: tuple[str, ...] = get_args(RuleKind)
DEFAULT_LANGUAGES: tuple[str, ...] = ("fr", "en", "ar")
# Bumped when the matching itself changes, so that the detector version changes with it.
ENGINE_REVISION = "1"


def is_rule_kind(value: str) -> TypeGuard[RuleKind]:
    """Whether ``value`` (a stored or typed text) names a kind of rule."""
    return value in RULE_KINDS


@dataclass(frozen=True)
class RuleSpec:
    """One rule: what to look for, which charter category it signals, and how strongly."""

    id: str
    category: str
    language: str
    kind: RuleKind
    pattern: str
    weight: float = 1.0
    note: str = ""


# --- Words: letters written once or twice, inflections ---------------------------------------


TokenInfo = tuple[str, tuple[int, ...]]
_DOUBLED_RE = re.compile(r"(.)\1")


@lru_cache(maxsize=1 << 18)
def _key_runs(token: str) -> tuple[str, tuple[int, ...]]:
    """The token with each run of a letter written once, and the length of each run."""
    if not _DOUBLED_RE.search(token):  # the usual case, decided in C
        return token, (1,) * len(token)
    key = [token[0]]
    runs = [1]
    for char in token[1:]:
        if char == key[-1]:
            runs[-1] += 1
        else:
            key.append(char)
            runs.append(1)
    return "".join(key), tuple(runs)


def _runs_ok(runs: tuple[int, ...], required: tuple[int, ...] | None) -> bool:
    # A letter the rule writes twice must be there at least twice; zip stops at the
    # shorter tuple, which is what a prefix needs.
    return required is None or all(have >= need for have, need in zip(runs, required, strict=False))


_FR_VOWEL_ENDINGS = ("eau", "au", "eu")
_AR_PREFIXES = ("", "ال", "و", "وال", "ف", "فال", "ب", "بال", "ل", "لل", "ك", "كال", "س", "وس")
_AR_SUFFIXES = ("", "ه", "ات", "ين", "ون", "ها", "هم", "ك", "كم", "ي")


@lru_cache(maxsize=1 << 14)
def _inflections(word: str, language: str) -> frozenset[str]:
    """Spellings a rule word also matches: plural and feminine, or Arabic clitics."""
    forms = {word}
    if len(word) < 3 or not word.isalpha():
        return frozenset(forms)
    if language == "fr":
        if word.endswith("on") or word.endswith("ien") or word.endswith("el"):
            forms.add(word + "ne" if not word.endswith("el") else word + "le")
        elif word.endswith("eur") or word.endswith("eux"):
            forms.add(word[:-1] + "se")
        elif word.endswith("if"):
            forms.add(word[:-1] + "ve")
        elif not word.endswith("ee"):
            forms.add(word + "e")  # also "encule" → "enculee": the accent of "é" is gone
        for form in list(forms):
            if form.endswith("al"):
                forms.add(form[:-2] + "aux")
            if form.endswith(_FR_VOWEL_ENDINGS):
                forms.add(form + "x")
            elif not form.endswith(("s", "x", "z")):
                forms.add(form + "s")
    elif language == "en":
        if word.endswith("y") and word[-2] not in "aeiou":
            forms.add(word[:-1] + "ies")
        elif word.endswith(("s", "x", "z", "ch", "sh")):
            forms.add(word + "es")
        else:
            forms.add(word + "s")
    elif language == "ar":
        # Clitics are peeled off the text's words when matching (see _token_candidates), so
        # the rule keeps the bare stem: "اليهود" is stored as "يهود" and finds "لليهود".
        forms = {word[2:] if word.startswith("ال") and len(word) > 4 else word}
    return frozenset(forms)


def _is_arabic(char: str) -> bool:
    return "\u0621" <= char <= "\u064a"


@lru_cache(maxsize=1 << 17)
def _token_candidates(token: str) -> tuple[TokenInfo, ...]:
    """How a text word may be looked up: as written, and for Arabic, without its clitics."""
    written = _key_runs(token)
    if len(token) < 4 or not _is_arabic(token[0]):
        return (written,)
    stems = {token}
    candidates = [written]
    for prefix in _AR_PREFIXES:
        if not token.startswith(prefix):
            continue
        for suffix in _AR_SUFFIXES:
            if suffix and not token.endswith(suffix):
                continue
            stem = token[len(prefix) : len(token) - len(suffix)]
            if len(stem) >= 2 and stem not in stems:
                stems.add(stem)
                candidates.append(_key_runs(stem))
    return tuple(candidates)


class _WordSet:
    """Words one token may be: exact spellings (by key) and prefixes."""

    __slots__ = ("exact", "prefixes")

    def __init__(self) -> None:
        self.exact: dict[str, list[tuple[int, ...] | None]] = {}
        self.prefixes: list[tuple[str, tuple[int, ...] | None]] = []

    def add(self, word: str, language: str, *, prefix: bool) -> None:
        """The word with its inflections (or, for a prefix, as it is)."""
        for key, required in _word_entries(word, language, prefix):
            if prefix:
                self.prefixes.append((key, required))
            else:
                self.exact.setdefault(key, []).append(required)

    def matches_any(self, candidates: Sequence[TokenInfo]) -> bool:
        return any(self.matches(key, runs) for key, runs in candidates)

    def matches(self, key: str, runs: tuple[int, ...]) -> bool:
        required_list = self.exact.get(key)
        if required_list is not None:
            for required in required_list:
                if _runs_ok(runs, required):
                    return True
        for prefix_key, required in self.prefixes:
            if key.startswith(prefix_key) and _runs_ok(runs, required):
                return True
        return False


@lru_cache(maxsize=1 << 14)
def _word_entries(
    word: str, language: str, prefix: bool
) -> tuple[tuple[str, tuple[int, ...] | None], ...]:
    entries: dict[str, tuple[int, ...] | None] = {}
    for form in (word,) if prefix else _inflections(word, language):
        key, runs = _key_runs(form)
        required = None if all(run == 1 for run in runs) else runs
        if key not in entries:
            entries[key] = required
            continue
        # Two spellings with one key ("femmes", "femmees"): the least demanding one wins.
        known = entries[key]
        if known is None or required is None:
            entries[key] = None
        else:
            merged = tuple(min(pair) for pair in zip(known, required, strict=True))
            entries[key] = None if all(run == 1 for run in merged) else merged
    return tuple(entries.items())


@dataclass
class _Slot:
    single: _WordSet = field(default_factory=_WordSet)
    sequences: list[tuple[_WordSet, ...]] = field(default_factory=list)
    wildcard: bool = False
    optional: bool = False
    # Multi-word alternatives by the key of their first word, so that a slot holding many
    # ("il faut|on devrait|faudrait …") is checked with one lookup, not one try each.
    by_first_key: dict[str, list[tuple[_WordSet, ...]]] = field(default_factory=dict)
    by_first_prefix: list[tuple[_WordSet, ...]] = field(default_factory=list)

    def finish(self) -> None:
        for sequence in self.sequences:
            if sequence[0].prefixes:
                self.by_first_prefix.append(sequence)
            for key in sequence[0].exact:
                self.by_first_key.setdefault(key, []).append(sequence)

    def keys(self) -> frozenset[str] | None:
        """Keys one of which a text must hold for this slot to match; None: cannot tell.

        For an alternative of several words, any of its words would do: the least common one
        is taken ("la trader" → "trader").
        """
        if self.wildcard or self.optional or self.single.prefixes:
            return None
        keys = set(self.single.exact)
        for sequence in self.sequences:
            usable = [words for words in sequence if not words.prefixes]
            if not usable:
                return None
            rarest = min(
                usable,
                key=lambda words: (not _COMMON_KEYS.isdisjoint(words.exact), len(words.exact)),
            )
            keys.update(rarest.exact)
        return frozenset(keys)

    def ends(self, infos: Sequence[Sequence[TokenInfo]], start: int) -> list[int]:
        ends: list[int] = []
        candidates = infos[start]
        if self.wildcard or self.single.matches_any(candidates):
            ends.append(start + 1)
        if self.sequences:
            tried: list[tuple[_WordSet, ...]] = []
            for key, _ in candidates:
                tried += self.by_first_key.get(key, ())
            tried += self.by_first_prefix
            for sequence in dict.fromkeys(tried) if len(candidates) > 1 else tried:
                stop = start + len(sequence)
                if stop <= len(infos) and all(
                    words.matches_any(infos[start + offset])
                    for offset, words in enumerate(sequence)
                ):
                    ends.append(stop)
        return ends


def _match_slots(
    slots: Sequence[_Slot], index: int, infos: Sequence[Sequence[TokenInfo]], at: int
) -> int:
    """End token of the first way ``slots[index:]`` matches from token ``at``, or -1."""
    if index == len(slots):
        return at
    slot = slots[index]
    if at < len(infos):
        for end in slot.ends(infos, at):
            found = _match_slots(slots, index + 1, infos, end)
            if found >= 0:
                return found
    if slot.optional:
        return _match_slots(slots, index + 1, infos, at)
    return -1


def _split_slots(pattern: str) -> list[tuple[list[str], bool]]:
    """``je (vais|veux) [vraiment] te|t tuer`` → slots of alternatives, each maybe optional."""
    slots: list[tuple[list[str], bool]] = []
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char.isspace():
            position += 1
            continue
        if char in "([":
            close = ")" if char == "(" else "]"
            end = pattern.find(close, position + 1)
            if end < 0:
                raise ValueError(f"unclosed {char!r}")
            inner = pattern[position + 1 : end]
            if any(bracket in inner for bracket in "()[]"):
                raise ValueError("brackets cannot be nested")
            alternatives, optional, position = inner.split("|"), char == "[", end + 1
        else:
            end = position
            while end < len(pattern) and not pattern[end].isspace() and pattern[end] not in "([":
                end += 1
            word = pattern[position:end]
            if any(bracket in word for bracket in ")]"):
                raise ValueError(f"unbalanced bracket in {word!r}")
            alternatives, optional, position = word.split("|"), False, end
        alternatives = [alternative.strip() for alternative in alternatives]
        if not all(alternatives):
            raise ValueError("empty alternative (check the '|')")
        slots.append((alternatives, optional))
    if not slots:
        raise ValueError("empty pattern")
    return slots


@lru_cache(maxsize=8192)
def _compile_slot(alternatives: tuple[str, ...], optional: bool, language: str) -> _Slot:
    """One slot; cached, since group slots repeat across rules (never mutated once built)."""
    slot = _Slot(optional=optional)
    for alternative in alternatives:
        if alternative == "*":
            slot.wildcard = True
            continue
        prefix = alternative.endswith("*")
        words = normalize(alternative.rstrip("*")).tokens
        if not words:
            raise ValueError(f"{alternative!r} holds no word once normalized")
        word_sets: list[_WordSet] = []
        for position, word in enumerate(words):
            is_prefix = prefix and position == len(words) - 1
            if is_prefix and len(_key_runs(word)[0]) < 3:
                raise ValueError(f"prefix {alternative!r} needs at least three letters")
            words_here = _WordSet()
            words_here.add(word, language, prefix=is_prefix)
            word_sets.append(words_here)
        if len(word_sets) == 1:
            only = word_sets[0]
            for key, required_list in only.exact.items():
                slot.single.exact.setdefault(key, []).extend(required_list)
            slot.single.prefixes.extend(only.prefixes)
        else:
            slot.sequences.append(tuple(word_sets))
    slot.finish()
    return slot


def _compile_slots(pattern: str, language: str) -> list[_Slot]:
    compiled = [
        _compile_slot(tuple(alternatives), optional, language)
        for alternatives, optional in _split_slots(pattern)
    ]
    # A leading optional slot never decides whether the rest matches: drop it, so that every
    # pattern starts on a word the index can look up.
    while compiled and compiled[0].optional:
        compiled.pop(0)
    if not compiled or compiled[0].wildcard:
        raise ValueError("a pattern cannot start with a wildcard or be only optional")
    return compiled


# --- Regular expressions and domains ---------------------------------------------------------


def _literal_prefilter(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Strings one of which any match must contain, to skip the regex on most texts.

    Only the top level of the expression is read: a run of literal characters, or a group
    whose every branch starts with a literal. None when nothing such is required.
    """
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        parser: Any = importlib.import_module("re._parser")
        tree = parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # an internal module: lose the speed-up, never the rule
        return None
    best: tuple[str, ...] = ()
    run: list[str] = []

    def flush() -> None:
        nonlocal best, run
        if run and len(run) > min((len(item) for item in best), default=0):
            best = ("".join(run),)
        run = []

    for op, value in tree:
        name = str(op)
        if name == "LITERAL":
            run.append(chr(value))
            continue
        if name == "MAX_REPEAT" and value[0] >= 1 and len(value[2]) == 1:
            ((body_op, body_value),) = value[2]
            if str(body_op) == "LITERAL":  # "\({3}" requires "((("
                run.append(chr(body_value) * value[0])
                if value[0] != value[1]:
                    flush()
                continue
        flush()
        branch = value
        if name == "SUBPATTERN" and len(value[-1]) == 1:
            op, branch = value[-1][0]
            name = str(op)
        if name == "BRANCH" and not best:
            starts: list[str] = []
            for alternative in branch[1]:
                literal = ""
                for alt_op, alt_value in alternative:
                    if str(alt_op) != "LITERAL":
                        break
                    literal += chr(alt_value)
                if not literal:
                    starts = []
                    break
                starts.append(literal)
            if starts:
                best = tuple(starts)
    flush()
    return best or None


def _requires_digit(pattern: re.Pattern[str]) -> bool:
    """Whether every match holds a digit (phone, IBAN, NIR…): such rules skip texts without."""
    try:
        parser: Any = importlib.import_module("re._parser")
        tree = parser.parse(pattern.pattern, pattern.flags)
    except Exception:
        return False

    def charset_is_digits(items: Any) -> bool:
        for op, value in items:
            name = str(op)
            if name == "NEGATE":
                return False
            if name == "LITERAL" and not chr(value).isdigit():
                return False
            if name == "RANGE" and not ("0" <= chr(value[0]) and chr(value[1]) <= "9"):
                return False
            if name == "CATEGORY" and str(value) != "CATEGORY_DIGIT":
                return False
        return True

    def requires(items: Any) -> bool:
        return any(element_requires(op, value) for op, value in items)

    def element_requires(op: Any, value: Any) -> bool:
        name = str(op)
        if name == "LITERAL":
            return chr(value).isdigit()
        if name == "IN":
            return charset_is_digits(value)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            return bool(value[0] >= 1 and requires(value[2]))
        if name == "SUBPATTERN":
            return requires(value[-1])
        if name == "BRANCH":
            return all(requires(alternative) for alternative in value[1])
        return False

    return requires(tree)


def _clean_domain(pattern: str) -> str:
    domain = pattern.strip().casefold()
    domain = re.sub(r"^[a-z]+://", "", domain).split("/")[0]
    domain = domain.removeprefix("*.").removeprefix("www.").strip(".")
    if not domain or not re.fullmatch(r"[\w-]+(?:\.[\w-]+)*", domain):
        raise ValueError(f"{pattern!r} is not a domain name")
    return domain


@dataclass(frozen=True)
class _Compiled:
    rule: RuleSpec
    slots: tuple[_Slot, ...] = ()
    regex: re.Pattern[str] | None = None
    prefilter: tuple[str, ...] | None = None
    needs_digit: bool = False


@lru_cache(maxsize=4096)
def _compile(rule: RuleSpec) -> _Compiled:
    if rule.category not in CATEGORIES:
        raise ValueError(
            f"unknown category {rule.category!r}; expected one of {', '.join(CATEGORIES)}"
        )
    if rule.kind not in RULE_KINDS:
        raise ValueError(f"unknown kind {rule.kind!r}; expected one of {', '.join(RULE_KINDS)}")
    if not 0.0 <= rule.weight <= 1.0:
        raise ValueError(f"weight {rule.weight} is not between 0 and 1")
    if rule.kind in ("keyword", "phrase"):
        if _GROUP_REF_RE.search(rule.pattern):
            raise ValueError("'{group}' references are only expanded in YAML lists with 'groups:'")
        return _Compiled(rule, slots=tuple(_compile_slots(rule.pattern, rule.language)))
    if rule.kind == "regex":
        try:
            regex = re.compile(fold_letters(rule.pattern))
        except re.error as error:
            raise ValueError(f"bad regular expression: {error}") from error
        if regex.search(""):
            raise ValueError("this regular expression matches an empty text")
        return _Compiled(
            rule,
            regex=regex,
            prefilter=_literal_prefilter(regex),
            needs_digit=_requires_digit(regex),
        )
    _clean_domain(rule.pattern)
    return _Compiled(rule)


# --- Negation, quotation, counter-speech -----------------------------------------------------

#: Factor applied to a match's weight when it is negated, quoted, or spoken against.
DAMPING: dict[str, float] = {"negation": 0.3, "quotation": 0.4, "counter_speech": 0.5}
_DAMPED_CATEGORIES = frozenset({"hate", "terrorism", "threat", "harassment", "insult"})
_NEGATION_WINDOW = 3
_NEGATIONS = frozenset(
    "ne n pas jamais aucun aucune ni sans "
    "not no never don dont doesn doesnt didn didnt isn isnt aren arent won wont cannot "
    "nobody nothing nor "
    "لا لن لم ليس ليست ما مش مو مب غير ولا".split()
)
# A negation before a clause's own subject belongs to another clause ("si tu ne paies pas,
# je vais te tuer"): the window stops at a subject pronoun.
_SUBJECTS = frozenset(
    "je j tu il elle on nous vous ils elles i you he she we they انا انت هو هي نحن انتم هم".split()
)
_COUNTER_SPEECH_RE = re.compile(
    r"\b(?:inacceptables?|inadmissibles?|intolerables?|condamn\w*|honteux de dire"
    r"|(?:arretez|arrete|arretons) de dire|ceux qui disent|il ne faut pas dire"
    r"|(?:est|c'est|sont) (?:raciste|sexiste|homophobe|antisemite|haineux|xenophobe)s?"
    r"|unacceptable|condemn\w*|not ok(?:ay)?|stop saying|wrong to say|people who say"
    r"|(?:is|are|that's|thats) (?:racist|sexist|homophobic|antisemitic|hateful|bigoted)"
    r"|غير مقبول|مرفوض|نرفض|ندين|ادين|لا يجوز)\b"
)
_QUOTE_OPEN_RE = re.compile(r"(?:^|(?<=[\s(:]))'(?=\S)")
_QUOTE_CLOSE_RE = re.compile(r"(?<=\S)'(?=[\s.,;:!?)]|$)")


def _inside_quotes(text: str, start: int, end: int) -> bool:
    before, after = text[:start], text[end:]
    if before.count('"') % 2 == 1 and '"' in after:
        return True
    if before.rfind("«") > before.rfind("»") and "»" in after:
        return True
    # Single quotes double as apostrophes: an opening one follows a space, a closing one
    # precedes a space or punctuation ("l'école" is neither).
    opens = [match.start() for match in _QUOTE_OPEN_RE.finditer(text) if match.start() < start]
    if not opens:
        return False
    closes_before = [m.start() for m in _QUOTE_CLOSE_RE.finditer(text) if m.start() < start]
    if closes_before and closes_before[-1] > opens[-1]:
        return False
    return _QUOTE_CLOSE_RE.search(text, end) is not None


def _negated(tokens: Sequence[str], start: int) -> bool:
    if start >= len(tokens) or tokens[start] in _SUBJECTS:
        return False
    for token in reversed(tokens[max(0, start - _NEGATION_WINDOW) : start]):
        if token in _NEGATIONS:
            return True
        if token in _SUBJECTS:
            return False
    return False


@dataclass
class _Match:
    compiled: _Compiled
    text: str
    start: int  # token span; -1 when the match is not on tokens (regex, domain)
    end: int
    char_start: int
    char_end: int
    weight: float
    damped: tuple[str, ...] = ()


_DIGIT_RE = re.compile(r"\d")
# A rule counts once per comment; a few occurrences are kept for the evidence and the
# dampening (a negated first use, a plain second one), never thousands in a flood.
_MATCHES_PER_RULE = 3
# Everyday words of the three default languages: a slot made of them filters nothing.
_COMMON_KEYS = frozenset(
    "a au aux d de des du en et il j je l la le les me n ne on pas pour qu que se t te tu un une "
    "vous nous ce c ces est sont y ma ta sa mon ton son mes tes ses tous toutes tout plus "
    "avec dans par sur qui quoi mais ou donc car etait ete fait faire va vais ai as avons avez "
    "ont ils elles leur leurs notre votre nos vos cette cet quand comme si bien tres merci "
    "i you u he she it we they me my your the an and or of to in on at is are was be will ll "
    "m re s not no do don this that for with all just so have has had been were would can "
    "our their there what when why how who about from by as if but get got go "
    "يا في من على الي هو هي ما لا و ان انا انت هذا هذه كل مع عن".split()
)


# --- The detector ------------------------------------------------------------------------------


class RuleDetector:
    """Scores texts by the rules it was given (see :func:`load_default_rules`)."""

    name = "rules"

    def __init__(self, rules: Sequence[RuleSpec]) -> None:
        self.rules: tuple[RuleSpec, ...] = tuple(rules)
        self._token_rules: list[_Compiled] = []
        self._regex_rules: list[_Compiled] = []
        self._domains: dict[str, list[_Compiled]] = {}
        self._starts: dict[str, list[int]] = {}
        self._prefix_starts: dict[str, list[int]] = {}
        # A phrase is only tried on a text that holds a word of its rarest slot (and of its
        # second rarest): most comments hold none, and are done after a few set lookups.
        self._filter_index: dict[str, list[int]] = {}
        self._second_filter: dict[int, frozenset[str]] = {}
        self._unfiltered: set[int] = set()
        self._always_starts: dict[str, list[int]] = {}
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule {rule.id!r}: the id is used twice")
            seen.add(rule.id)
            try:
                compiled = _compile(rule)
            except ValueError as error:
                raise ValueError(f"rule {rule.id!r}: {error}") from error
            if rule.kind == "regex":
                self._regex_rules.append(compiled)
            elif rule.kind == "domain":
                self._domains.setdefault(_clean_domain(rule.pattern), []).append(compiled)
            else:
                self._index(compiled)
        described = sorted(
            [r.id, r.category, r.language, r.kind, r.pattern, r.weight] for r in self.rules
        )
        canonical = json.dumps([ENGINE_REVISION, *described], ensure_ascii=False)
        self.version: str = hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def _index(self, compiled: _Compiled) -> None:
        number = len(self._token_rules)
        self._token_rules.append(compiled)
        filters = sorted(
            (keys for keys in (slot.keys() for slot in compiled.slots) if keys is not None),
            key=lambda keys: (not _COMMON_KEYS.isdisjoint(keys), len(keys)),
        )
        starts = self._starts
        if not filters:
            self._unfiltered.add(number)
            starts = self._always_starts
        else:
            for key in filters[0]:
                self._filter_index.setdefault(key, []).append(number)
            if len(filters) > 1:
                self._second_filter[number] = filters[1]
        first = compiled.slots[0]
        word_sets = [first.single, *(sequence[0] for sequence in first.sequences)]
        for words in word_sets:
            for key in words.exact:
                numbers = starts.setdefault(key, [])
                if not numbers or numbers[-1] != number:
                    numbers.append(number)
            for prefix_key, _ in words.prefixes:
                numbers = self._prefix_starts.setdefault(prefix_key[:3], [])
                if not numbers or numbers[-1] != number:
                    numbers.append(number)

    # Scoring ------------------------------------------------------------------------------

    def score(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None
    ) -> list[list[Signal]]:
        """Score raw texts. ``languages`` (one per text, optional) skips other languages' rules."""
        return self.score_normalized([normalize(text) for text in texts], languages)

    def score_normalized(
        self, texts: Sequence[NormalizedText], languages: Sequence[str | None] | None = None
    ) -> list[list[Signal]]:
        """Score texts that went through :func:`normalize` already."""
        results: list[list[Signal]] = []
        for position, normalized in enumerate(texts):
            language = languages[position] if languages is not None else None
            results.append(self._signals(self._find(normalized, language)))
        return results

    def matches(self, text: str, language: str | None = None) -> list[tuple[RuleSpec, str]]:
        """Which rule matched which (normalized) words, in text order, for explanations."""
        found = self._find(normalize(text), language)
        found.sort(key=lambda match: (match.char_start, match.compiled.rule.id))
        return [(match.compiled.rule, match.text) for match in found]

    def _allowed(self, rule: RuleSpec, language: str | None) -> bool:
        return language is None or rule.language in ("*", language)

    def _find(self, normalized: NormalizedText, language: str | None) -> list[_Match]:
        found: list[_Match] = []
        tokens = normalized.tokens
        text = normalized.text
        spans: list[tuple[int, int]] | None = None
        if tokens and self._token_rules:
            infos = [_token_candidates(token) for token in tokens]
            text_keys = {key for token_candidates in infos for key, _ in token_candidates}
            active: set[int] = set()
            for key in text_keys:
                for number in self._filter_index.get(key, ()):
                    second = self._second_filter.get(number)
                    if second is None or not second.isdisjoint(text_keys):
                        active.add(number)
            seen: dict[int, int] = {}
            for start, token_candidates in enumerate(infos):
                tried: set[int] = set()
                for key, _ in token_candidates:
                    starting = list(self._always_starts.get(key, ()))
                    starting += self._prefix_starts.get(key[:3], ())
                    if active:
                        starting += self._starts.get(key, ())
                    for number in starting:
                        if number in tried or not (number in active or number in self._unfiltered):
                            continue
                        tried.add(number)
                        if seen.get(number, 0) >= _MATCHES_PER_RULE:
                            continue
                        compiled = self._token_rules[number]
                        if not self._allowed(compiled.rule, language):
                            continue
                        end = _match_slots(compiled.slots, 0, infos, start)
                        if end > start:
                            seen[number] = seen.get(number, 0) + 1
                            if spans is None:
                                spans = token_spans(text)
                            found.append(
                                _Match(
                                    compiled,
                                    " ".join(tokens[start:end]),
                                    start,
                                    end,
                                    spans[start][0],
                                    spans[end - 1][1],
                                    compiled.rule.weight,
                                )
                            )
        has_digit: bool | None = None
        for compiled in self._regex_rules:
            if not self._allowed(compiled.rule, language):
                continue
            if compiled.needs_digit:
                if has_digit is None:
                    has_digit = _DIGIT_RE.search(text) is not None
                if not has_digit:
                    continue
            if compiled.prefilter is not None:
                for literal in compiled.prefilter:
                    if literal in text:
                        break
                else:
                    continue
            assert compiled.regex is not None
            regex_match = compiled.regex.search(text)
            if regex_match:
                found.append(
                    _Match(
                        compiled,
                        regex_match.group(0),
                        -1,
                        -1,
                        regex_match.start(),
                        regex_match.end(),
                        compiled.rule.weight,
                    )
                )
        if self._domains:
            for domain in normalized.domains:
                labels = domain.split(".")
                for cut in range(len(labels)):
                    for compiled in self._domains.get(".".join(labels[cut:]), ()):
                        if self._allowed(compiled.rule, language):
                            found.append(
                                _Match(compiled, domain, -1, -1, -1, -1, compiled.rule.weight)
                            )
        if found:
            found = self._without_contained(found)
            self._damp(found, normalized, spans)
        return found

    @staticmethod
    def _without_contained(found: list[_Match]) -> list[_Match]:
        """Within a category, a match inside another ("pute" in "fils de pute") goes.

        Of two matches on the same words, the heavier stays, so that two rules for one word
        ("con" and its feminine "conne") are not counted twice.
        """
        found.sort(
            key=lambda match: (match.char_end - match.char_start, match.weight), reverse=True
        )
        kept: list[_Match] = []
        for match in found:
            if match.char_start >= 0 and any(
                other.compiled.rule.category == match.compiled.rule.category
                and other.char_start <= match.char_start
                and match.char_end <= other.char_end
                for other in kept
            ):
                continue
            kept.append(match)
        return kept

    @staticmethod
    def _damp(
        found: list[_Match], normalized: NormalizedText, spans: list[tuple[int, int]] | None
    ) -> None:
        text = normalized.text
        counter_speech: bool | None = None
        for match in found:
            if match.compiled.rule.category not in _DAMPED_CATEGORIES or match.char_start < 0:
                continue
            reasons: list[str] = []
            start = match.start
            if start < 0:  # a regex match: find the token it starts in
                if spans is None:
                    spans = token_spans(text)
                start = sum(1 for span in spans if span[1] <= match.char_start)
            if _negated(normalized.tokens, start):
                reasons.append("negation")
            if _inside_quotes(text, match.char_start, match.char_end):
                reasons.append("quotation")
            if counter_speech is None:
                counter_speech = _COUNTER_SPEECH_RE.search(text) is not None
            if counter_speech:
                reasons.append("counter_speech")
            for reason in reasons:
                match.weight *= DAMPING[reason]
            match.damped = tuple(reasons)

    def _signals(self, found: list[_Match]) -> list[Signal]:
        by_category: dict[str, dict[str, _Match]] = {}
        for match in sorted(found, key=lambda match: match.char_start):
            rules = by_category.setdefault(match.compiled.rule.category, {})
            best = rules.get(match.compiled.rule.id)
            if best is None or match.weight > best.weight:
                rules[match.compiled.rule.id] = match
        signals: list[Signal] = []
        for category in CATEGORIES:
            matched = by_category.get(category)
            if not matched:
                continue
            evidence: list[str] = []
            for rule_id, match in matched.items():
                evidence += [f"rule:{rule_id}", f"match:{match.text}"]
                evidence += [f"dampened:{reason}" for reason in match.damped]
            score = min(1.0, sum(match.weight for match in matched.values()))
            signals.append(
                Signal(self.name, self.version, category, round(score, 4), tuple(evidence))
            )
        return signals


# --- YAML -----------------------------------------------------------------------------------

# libyaml's loader when PyYAML was built with it: the default lists load several times faster.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ENTRY_KEYS = frozenset(
    {"id", "category", "language", "kind", "pattern", "patterns", "weight", "note"}
)
_TOP_KEYS = frozenset({"language", "groups", "rules"})
_LANGUAGE_RE = re.compile(r"[a-z]{2,3}|\*")


def _expand_groups(pattern: str, kind: str, language: str, groups: dict[str, list[str]]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in groups:
            raise ValueError(f"unknown group {{{name}}}; define it under 'groups:'")
        words = groups[name]
        if kind == "regex":
            forms: set[str] = set()
            for word in words:
                folded = normalize(word).text
                forms |= {folded} if " " in folded else set(_inflections(folded, language))
            return (
                "(?:"
                + "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
                + ")"
            )
        inside_brackets = pattern.count("(", 0, match.start()) > pattern.count(
            ")", 0, match.start()
        ) or (pattern.count("[", 0, match.start()) > pattern.count("]", 0, match.start()))
        joined = "|".join(words)
        return joined if inside_brackets else f"({joined})"

    return _GROUP_REF_RE.sub(replace, pattern)


def _slug(text: str) -> str:
    slug = re.sub(r"\W+", "_", text.casefold()).strip("_") or "rule"
    if len(slug) > 48:
        slug = slug[:40] + "_" + hashlib.sha256(text.encode()).hexdigest()[:7]
    return slug


def _entry_rules(
    entry: object, default_language: str, groups: dict[str, list[str]]
) -> list[RuleSpec]:
    if not isinstance(entry, dict):
        raise ValueError("an entry must be a mapping with category, kind and pattern")
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    category = entry.get("category")
    if category not in CATEGORIES:
        raise ValueError(f"unknown category {category!r}; expected one of {', '.join(CATEGORIES)}")
    kind = entry.get("kind", "keyword")
    if kind not in RULE_KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(RULE_KINDS)}")
    language = str(entry.get("language", default_language))
    if not _LANGUAGE_RE.fullmatch(language):
        raise ValueError(f"language {language!r} should be a code such as 'fr', or '*'")
    weight = entry.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
        raise ValueError(f"weight {weight!r} should be a number between 0 and 1")
    note = entry.get("note", "")
    if not isinstance(note, str):
        raise ValueError("note should be text")
    if ("pattern" in entry) == ("patterns" in entry):
        raise ValueError("give either 'pattern' or a list of 'patterns'")
    raw_patterns = [entry["pattern"]] if "pattern" in entry else entry["patterns"]
    if not isinstance(raw_patterns, list) or not raw_patterns:
        raise ValueError("'patterns' should be a non-empty list")
    explicit_id = entry.get("id")
    if explicit_id is not None and (not isinstance(explicit_id, str) or not explicit_id.strip()):
        raise ValueError("id should be non-empty text")
    rules: list[RuleSpec] = []
    for raw in raw_patterns:
        if not isinstance(raw, str | int | float) or isinstance(raw, bool) or not str(raw).strip():
            raise ValueError(f"pattern {raw!r} should be non-empty text")
        source = str(raw).strip()
        pattern = _expand_groups(source, kind, language, groups)
        if explicit_id and "pattern" in entry:
            rule_id = explicit_id
        else:
            prefix = explicit_id or f"{language.replace('*', 'all')}.{category}"
            rule_id = f"{prefix}.{_slug(source)}"
        rule = RuleSpec(rule_id, category, language, kind, pattern, float(weight), note)
        try:
            _compile(rule)
        except ValueError as error:
            raise ValueError(f"pattern {source!r}: {error}") from error
        rules.append(rule)
    return rules


def _groups(value: object) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("'groups' should map a name to a list of words")
    groups: dict[str, list[str]] = {}
    for name, words in value.items():
        if not isinstance(words, list) or not all(
            isinstance(word, str) and word.strip() for word in words
        ):
            raise ValueError(f"group {name!r} should be a list of words")
        expanded: list[str] = []
        for word in (word.strip() for word in words):
            reference = _GROUP_REF_RE.fullmatch(word)
            if reference:  # "{other}" includes a group defined above
                if reference.group(1) not in groups:
                    raise ValueError(f"group {name!r}: {word} is not defined above it")
                expanded += groups[reference.group(1)]
            elif any(bracket in word for bracket in "()[]|{}"):
                raise ValueError(f"group {name!r}: words cannot hold brackets or '|'")
            else:
                expanded.append(word)
        groups[str(name)] = list(dict.fromkeys(expanded))
    return groups


def parse_rules_yaml(text: str) -> list[RuleSpec]:
    """Read a rule list; a bad entry raises ValueError naming its number and line."""
    try:
        root = yaml.compose(text, Loader=_YAML_LOADER)
        data = yaml.constructor.SafeConstructor().construct_document(root) if root else None
    except yaml.YAMLError as error:
        raise ValueError(f"the rule list is not valid YAML: {error}") from error
    if data is None:
        return []
    language, groups, entries, entries_node = "*", {}, data, root
    if isinstance(data, dict):
        unknown = set(data) - _TOP_KEYS
        if unknown:
            raise ValueError(
                f"unknown top-level field(s) {', '.join(sorted(map(str, unknown)))};"
                " expected language, groups, rules"
            )
        language = str(data.get("language", "*"))
        if not _LANGUAGE_RE.fullmatch(language):
            raise ValueError(f"language {language!r} should be a code such as 'fr', or '*'")
        groups = _groups(data.get("groups"))
        entries = data.get("rules") or []
        entries_node = (
            next((value for key, value in root.value if key.value == "rules"), None)
            if isinstance(root, yaml.MappingNode)
            else None
        )
    if not isinstance(entries, list):
        raise ValueError("'rules' should be a list of entries")
    lines = (
        [node.start_mark.line + 1 for node in entries_node.value]
        if isinstance(entries_node, yaml.SequenceNode)
        else [0] * len(entries)
    )
    rules: list[RuleSpec] = []
    where_id: dict[str, str] = {}
    for number, entry in enumerate(entries, start=1):
        where = f"entry {number} (line {lines[number - 1]})"
        try:
            entry_rules = _entry_rules(entry, language, groups)
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from error
        for rule in entry_rules:
            if rule.id in where_id:
                raise ValueError(
                    f"{where}: rule id {rule.id!r} is already used by {where_id[rule.id]}"
                )
            where_id[rule.id] = where
        rules += entry_rules
    return rules


def dump_rules_yaml(rules: Sequence[RuleSpec]) -> str:
    """Write rules as YAML that :func:`parse_rules_yaml` reads back to the same rules."""
    entries: list[dict[str, object]] = []
    for rule in rules:
        entry: dict[str, object] = {
            "id": rule.id,
            "category": rule.category,
            "language": rule.language,
            "kind": rule.kind,
            "pattern": rule.pattern,
            "weight": rule.weight,
        }
        if rule.note:
            entry["note"] = rule.note
        entries.append(entry)
    return yaml.safe_dump({"rules": entries}, allow_unicode=True, sort_keys=False, width=100)


def load_default_rules(languages: Iterable[str] = DEFAULT_LANGUAGES) -> list[RuleSpec]:
    """The project's own rule lists: ``common.yaml`` (any language) and one per language."""
    return list(_default_rules(tuple(languages)))


@lru_cache(maxsize=8)
def _default_rules(languages: tuple[str, ...]) -> tuple[RuleSpec, ...]:
    folder = resources.files("beffroi.analysis.moderation").joinpath("data", "rules")
    rules: list[RuleSpec] = []
    for name in ["common", *languages]:
        resource = folder.joinpath(f"{name}.yaml")
        if not resource.is_file():
            raise ValueError(f"no default rule list for language {name!r}")
        try:
            rules += parse_rules_yaml(resource.read_text(encoding="utf-8"))
        except ValueError as error:
            raise ValueError(f"{name}.yaml: {error}") from error
    return tuple(rules)
