"""The classifier's seed corpus: examples the project writes itself, in French, English, Arabic.

Each language has one YAML file under ``data/seed/`` (format in ``docs/moderation.md``):

- ``examples``: hand-written texts, by label (a charter category or ``none``);
- ``templates``: sentences with slots, expanded here over word lists the same file gives.
  A template about a group (``{pl}``, ``{les}``, ``{sg}``…) is filled with *protected*
  groups (origin, religion, gender, sexual orientation, disability) and labelled ``label``;
  when it has a ``contrast`` label, the very same sentence is also filled with groups the
  law does not protect (politicians, bankers…) and objects, and labelled ``contrast``. That
  pairing is what teaches the model that "X are vermin" is hate speech only when X is a
  protected group, and that hating roadworks is an opinion.
- ``<masculine|feminine>`` in a template picks the form agreeing with the group's gender.

Expansion is deterministic (seeded by the template text), so the corpus, its hash and the
model trained on it are reproducible. Spelling evasions (swapped, dropped, doubled letters,
missing spaces) are added to a share of the violating examples the way evaders write them.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from beffroi.analysis.moderation.signals import CATEGORIES

SEED_DIR = Path(__file__).parent / "data" / "seed"
#: Everyday messages to public accounts, written one by one (not expanded): what a town hall,
#: a police account or a ministry really receives, legitimate for the most part.
EVERYDAY_DIR = Path(__file__).parent / "data" / "everyday"
LANGUAGES: tuple[str, ...] = ("fr", "en", "ar")
LABELS: tuple[str, ...] = (*CATEGORIES, "none")

#: Bumped when the expansion below changes, so cached models keyed by the corpus hash expire.
EXPANSION_VERSION = "3"

_SLOT = re.compile(r"\{([A-Za-z_]+)\}")
_GENDER = re.compile(r"<([^<>|]*)\|([^<>|]*)>")
_VOWEL_START = re.compile(r"^[aeiouyàâäéèêëîïôöûühæœ]", re.IGNORECASE)
#: Group slots: a template using one of them is about a group.
_GROUP_SLOTS = frozenset(
    {
        "pl",
        "sg",
        "les",
        "des",
        "de",
        "un",
        "ce",
        "aux",
        "a",
        "nom",
        "the",
        "adj",
        "def",
        "bare",
        "li",
    }
)


@dataclass(frozen=True)
class SeedExample:
    text: str
    category: str
    language: str
    origin: str  # "hand", "template", "contrast" or "variant": for the docs and the checks


def _forms(group: Mapping[str, Any], language: str) -> dict[str, str]:
    """All the slot values of one group: those the file gives plus derived French/English ones."""
    forms = {key: str(value) for key, value in group.items() if isinstance(value, str)}
    plural, singular = forms.get("pl", ""), forms.get("sg", forms.get("pl", ""))
    masculine = forms.get("g", "m") == "m"
    if language == "fr":
        forms.setdefault("les", f"les {plural}")
        forms.setdefault("des", f"des {plural}")
        forms.setdefault("aux", f"aux {plural}")
        forms.setdefault("de", f"d'{plural}" if _VOWEL_START.match(plural) else f"de {plural}")
        forms.setdefault("un", f"{'un' if masculine else 'une'} {singular}")
        if masculine:
            forms.setdefault("ce", f"{'cet' if _VOWEL_START.match(singular) else 'ce'} {singular}")
        else:
            forms.setdefault("ce", f"cette {singular}")
    elif language == "en":
        forms.setdefault("a", f"{'an' if re.match(r'[aeiou]', singular, re.I) else 'a'} {singular}")
        forms.setdefault("the", f"the {plural}")
        forms.setdefault("adj", plural)
    elif language == "ar":
        # Definite plural as object (the file gives "nom" where the subject form differs), the
        # bare plural for vocatives, "li" for the preposition li- fused with the article.
        forms.setdefault("nom", plural)
        bare = plural[2:] if plural.startswith("ال") else plural
        forms.setdefault("bare", bare)
        forms.setdefault("li", f"لل{bare}" if plural.startswith("ال") else f"ل{plural}")
        forms.setdefault("def", singular if singular.startswith("ال") else f"ال{singular}")
    return forms


def _fill(template: str, values: Mapping[str, str], feminine: bool) -> str:
    def slot(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values.get(name) or values.get(name.lower())
        if value is None:
            raise KeyError(f"slot {{{name}}} has no value in template {template!r}")
        return value[:1].upper() + value[1:] if name[:1].isupper() else value

    # Slots first: filler values may hold their own <masculine|feminine> forms.
    text = _SLOT.sub(slot, template)
    return _GENDER.sub(lambda m: m.group(2) if feminine else m.group(1), text)


def _slots(template: str) -> set[str]:
    return {name.lower() for name in _SLOT.findall(template)}


def _rng(*parts: str) -> random.Random:
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


class _FillerCycle:
    """Filler values for the successive expansions of one template: each list walked from a
    random start, so that k expansions use k different values (not k random draws)."""

    def __init__(self, fillers: Mapping[str, Sequence[str]], names: set[str], rng: random.Random):
        self._lists = {name: list(fillers[name]) for name in sorted(names) if name in fillers}
        self._starts = {name: rng.randrange(len(values)) for name, values in self._lists.items()}
        self._count = 0

    def next(self) -> dict[str, str]:
        picked = {
            name: values[(self._starts[name] + self._count) % len(values)]
            for name, values in self._lists.items()
        }
        self._count += 1
        return picked


def _expand(spec: Mapping[str, Any], language: str) -> Iterator[SeedExample]:
    groups = spec.get("groups", {})
    fillers: dict[str, list[str]] = {
        key: [str(v) for v in values] for key, values in spec.get("fillers", {}).items()
    }
    for block in spec.get("templates", []):
        label = str(block["label"])
        contrast = block.get("contrast")
        per_template = int(block.get("per_template", 3))
        per_contrast = int(block.get("per_contrast", 1))
        # A block may use another pair of group lists (``groups: arabizi`` → ``arabizi_protected``
        # and ``arabizi_other``) and keep only some protected axes (``axes: [origin]``).
        prefix = f"{block['groups']}_" if block.get("groups") else ""
        axes = set(block.get("axes", []))
        protected = [
            _forms(g, language)
            for g in groups.get(f"{prefix}protected", [])
            if not axes or g.get("axis") in axes
        ]
        others = [_forms(g, language) for g in groups.get(f"{prefix}other", [])]
        for template in block["texts"]:
            template = str(template)
            names = _slots(template)
            rng = _rng(language, label, template)
            cycle = _FillerCycle(fillers, names, rng)
            if names & _GROUP_SLOTS:
                chosen = rng.sample(protected, min(per_template, len(protected)))
                for group in chosen:
                    values = {**group, **cycle.next()}
                    text = _fill(template, values, group.get("g") == "f")
                    yield SeedExample(text, label, language, "template")
                if contrast:
                    for group in rng.sample(others, min(per_contrast, len(others))):
                        values = {**group, **cycle.next()}
                        text = _fill(template, values, group.get("g") == "f")
                        yield SeedExample(text, str(contrast), language, "contrast")
            else:
                seen: set[str] = set()
                for _ in range(per_template if names else 1):
                    text = _fill(template, cycle.next(), False)
                    if text not in seen:
                        seen.add(text)
                        yield SeedExample(text, label, language, "template")
    for label, texts in spec.get("examples", {}).items():
        for text in texts:
            yield SeedExample(str(text).strip(), str(label), language, "hand")


# Spelling evasions. Normalization undoes leetspeak, repeated letters and spaced-out letters;
# swapped and dropped letters it cannot undo, so the model has to see them.
def _swap(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def _drop(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1 :]


def _double(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word))
    return word[:i] + word[i] * 3 + word[i + 1 :]


def _variant(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 4]
    if not long_words:
        return text
    kind = rng.randrange(4)
    if kind == 3 and len(words) > 1:
        i = rng.randrange(len(words) - 1)  # two words glued together
        return " ".join([*words[:i], words[i] + words[i + 1], *words[i + 2 :]])
    i = rng.choice(long_words)
    change = (_swap, _drop, _double)[kind % 3]
    words[i] = change(words[i], rng)
    return " ".join(words)


#: Share of template examples that also appear with one spelling evasion: more for violating
#: ones (evaders misspell on purpose), some for acceptable ones so that a misspelling alone
#: does not look suspicious.
VARIANT_SHARE = {"violating": 0.35, "none": 0.15}


def _with_variants(examples: list[SeedExample]) -> list[SeedExample]:
    out = list(examples)
    seen = {e.text for e in examples}
    for example in examples:
        if example.origin not in ("template", "contrast"):
            continue
        share = VARIANT_SHARE["none" if example.category == "none" else "violating"]
        rng = _rng("variant", example.language, example.text)
        if rng.random() >= share:
            continue
        text = _variant(example.text, rng)
        if text not in seen:
            seen.add(text)
            out.append(SeedExample(text, example.category, example.language, "variant"))
    return out


def load_language(language: str, directory: Path = SEED_DIR) -> list[SeedExample]:
    """The expanded examples of one language file, duplicates removed (first label wins)."""
    with (directory / f"{language}.yaml").open(encoding="utf-8") as handle:
        spec = yaml.safe_load(handle) or {}
    examples: list[SeedExample] = []
    seen: set[str] = set()
    for example in _expand(spec, language):
        if example.category not in LABELS:
            raise ValueError(f"{language}.yaml: unknown label {example.category!r}")
        key = " ".join(example.text.casefold().split())
        if key and key not in seen:
            seen.add(key)
            examples.append(example)
    return _with_variants(examples)


def load_everyday(language: str, directory: Path = EVERYDAY_DIR) -> list[SeedExample]:
    """The hand-written everyday messages of one language (origin ``everyday``); none when
    the file is absent."""
    path = directory / f"{language}.yaml"
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        spec = yaml.safe_load(handle) or {}
    examples: list[SeedExample] = []
    for label, texts in (spec.get("examples") or {}).items():
        if label not in LABELS:
            raise ValueError(f"everyday/{language}.yaml: unknown label {label!r}")
        examples.extend(
            SeedExample(str(text).strip(), label, language, "everyday")
            for text in texts or ()
            if str(text).strip()
        )
    return examples


@lru_cache(maxsize=4)
def _load_all(directory: Path, everyday: Path | None) -> tuple[SeedExample, ...]:
    examples: list[SeedExample] = []
    seen: set[str] = set()
    for language in LANGUAGES:
        found = load_language(language, directory)
        if everyday is not None:
            found += load_everyday(language, everyday)
        for example in found:  # the same text twice: the first label wins
            key = " ".join(example.text.casefold().split())
            if key not in seen:
                seen.add(key)
                examples.append(example)
    return tuple(examples)


def seed_examples(
    directory: Path = SEED_DIR, everyday: Path | None = EVERYDAY_DIR
) -> list[SeedExample]:
    """Every seed example of every language: the expanded files of ``directory`` and the
    everyday messages of ``everyday`` (``None``: without them)."""
    return list(_load_all(directory, everyday))


def seed_hash(directory: Path = SEED_DIR, everyday: Path | None = EVERYDAY_DIR) -> str:
    """A hash of the seed files and of how they are expanded: the cache key of the model."""
    digest = hashlib.sha256(EXPANSION_VERSION.encode())
    digest.update(Path(__file__).read_bytes())
    for language in LANGUAGES:
        digest.update((directory / f"{language}.yaml").read_bytes())
        if everyday is not None and (everyday / f"{language}.yaml").exists():
            digest.update((everyday / f"{language}.yaml").read_bytes())
    return digest.hexdigest()
