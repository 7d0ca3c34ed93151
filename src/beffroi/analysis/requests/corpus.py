"""The requests corpus: messages people send to a town hall's social accounts, written by the
project, labelled *request for the institution or not* and *which service*.

How it is made (nothing in it comes from a third-party data set): ``data/templates.txt``
holds a few hundred messages written by hand, each with slots (``{rue}``, ``{duree}``…) whose
fillers are in ``data/slots.txt``; :func:`generate` expands every template several times,
drawing fillers and *style transforms* (accents dropped, SMS spelling, typos, emojis, anger,
politeness, @mentions, hashtags) with a generator seeded by the template, so the output is
reproducible. Every expansion of a template shares its ``group``: a fair split keeps a group
on one side. The expansions are stored in ``data/corpus.csv``, which :func:`load_corpus`
reads; ``python -m beffroi.analysis.requests.corpus`` rewrites it after editing the
templates.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = [
    "REQUEST_KINDS",
    "SERVICES",
    "CorpusRow",
    "corpus_hash",
    "generate",
    "load_corpus",
]

#: The default services of a town (configurable per organization higher up).
SERVICES: tuple[str, ...] = (
    "voirie",
    "proprete",
    "eclairage",
    "etat_civil",
    "urbanisme",
    "ecoles",
    "police_municipale",
    "social",
    "eau_assainissement",
    "transports_stationnement",
    "espaces_verts",
    "culture_sport",
    "autre",
)
#: Template kinds that are requests or complaints for the institution; the others are not.
REQUEST_KINDS = frozenset({"question", "report", "complaint", "procedure"})
OTHER_KINDS = frozenset({"thanks", "chatter", "joke", "spam", "insult", "news", "reply", "opinion"})

DATA = Path(__file__).resolve().parent / "data"
CORPUS_FILE = DATA / "corpus.csv"
#: Expansions per template: non-requests get more, so both classes weigh about the same.
REQUEST_VARIANTS = 12
OTHER_VARIANTS = 16
COLUMNS = ("text", "is_request", "service", "language", "kind", "group")


@dataclass(frozen=True)
class CorpusRow:
    text: str
    is_request: bool
    service: str  # "" when not a request
    language: str
    kind: str
    group: str


@dataclass(frozen=True)
class _Template:
    language: str
    kind: str
    service: str
    text: str
    group: str


# --- Reading the sources --------------------------------------------------------------------


def _meaningful_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _templates(path: Path = DATA / "templates.txt") -> list[_Template]:
    templates: list[_Template] = []
    counters: dict[str, int] = {}
    for line in _meaningful_lines(path):
        head, _, text = line.partition(" | ")
        language, kind, service = head.split()
        if kind not in REQUEST_KINDS | OTHER_KINDS:
            raise ValueError(f"templates.txt: unknown kind {kind!r} in {line!r}")
        if kind in REQUEST_KINDS and service not in SERVICES:
            raise ValueError(f"templates.txt: unknown service {service!r} in {line!r}")
        stem = f"{language}-{service if kind in REQUEST_KINDS else kind}"
        counters[stem] = counters.get(stem, 0) + 1
        group = f"{stem}-{counters[stem]:02d}"
        templates.append(
            _Template(language, kind, service if kind in REQUEST_KINDS else "", text, group)
        )
    return templates


def _slots(path: Path = DATA / "slots.txt") -> dict[str, list[str]]:
    slots: dict[str, list[str]] = {}
    for line in _meaningful_lines(path):
        name, _, value = line.partition(" | ")
        slots.setdefault(name.strip(), []).append(value.strip())
    return slots


# --- Style transforms -----------------------------------------------------------------------

_FRENCH_SMS = (
    ("quand", "qd"),
    ("pourquoi", "pk"),
    ("beaucoup", "bcp"),
    ("bonjour", "bjr"),
    ("s'il vous plaît", "svp"),
    ("aujourd'hui", "ajd"),
    ("est-ce que", "esque"),
    ("quelqu'un", "qqn"),
    ("toujours", "tjrs"),
    ("c'est", "c"),
    ("vous", "vs"),
    ("depuis", "dpuis"),
    ("que", "ke"),
    ("rendez-vous", "rdv"),
    ("je ne sais pas", "jsp"),
    ("d'accord", "dac"),
)
_ENGLISH_SMS = (
    ("please", "pls"),
    ("you", "u"),
    ("are", "r"),
    ("because", "coz"),
    ("people", "ppl"),
    ("tomorrow", "tmrw"),
    ("nobody", "nobdy"),
    ("thanks", "thx"),
)
_GREETINGS = {
    "fr": ("Bonjour,", "Bonjour", "Bonsoir,", "Madame, Monsieur,", "Bjr", "Salut", "Hello"),
    "en": ("Hello,", "Hi", "Dear sir,", "Sir/Madam,", "Good morning,", "Hey"),
    "ar": ("السلام عليكم،", "مرحباً،", "من فضلكم،", "صباح الخير،"),
}
_CLOSINGS = {
    "fr": ("Merci d'avance", "Cordialement", "merci !", "Merci de votre retour", "svp", "Merci"),
    "en": ("Thanks in advance", "Please help", "Kindly look into this", "Regards", "plz"),
    "ar": ("شكراً", "شكراً مسبقاً", "من فضلكم"),
}
_ANGER = {
    "fr": ("C'est inadmissible !", "Ras le bol !!", "Honteux.", "On paie des impôts pour ça ?"),
    "en": ("Shameful!", "Fed up!!", "Disgusting.", "Is anyone even listening?"),
    "ar": ("هذا غير مقبول!", "تعبنا!"),
}
_MENTIONS = {
    "fr": ("@MairieSaintAubin", "@VilleDeSaintAubin", "@mairie", "@PoliceMunicipale"),
    "en": ("@CityCouncil", "@TownHall", "@CityPolice", "@mayoroffice"),
    "ar": ("@MairieSaintAubin", "@البلدية"),
}
_HASHTAGS = {
    "fr": ("#SaintAubin", "#mairie", "#ville", "#colère", "#signalement", "#citoyen"),
    "en": ("#CityIssues", "#fixit", "#civic", "#help", "#traffic"),
    "ar": ("#البلدية", "#مدينتنا"),
}
_EMOJIS = {
    "request": ("😡", "🙏", "😤", "🤬", "😢", "😩", "⚠️", "🙄"),
    "other": ("😊", "👍", "😂", "❤️", "👏", "🤣", "😍", "🎉"),
}


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _sms(text: str, table: Sequence[tuple[str, str]], rng: random.Random) -> str:
    for word, short in table:
        if rng.random() < 0.7:
            text = re.sub(rf"\b{re.escape(word)}\b", short, text, flags=re.IGNORECASE)
    return text


def _typos(text: str, rng: random.Random) -> str:
    characters = list(text)
    for _ in range(rng.randint(1, 3)):
        positions = [i for i in range(1, len(characters) - 1) if characters[i].isalpha()]
        if not positions:
            break
        i = rng.choice(positions)
        roll = rng.random()
        if roll < 0.4 and characters[i + 1].isalpha():
            characters[i], characters[i + 1] = characters[i + 1], characters[i]
        elif roll < 0.7:
            del characters[i]
        else:
            characters.insert(i, characters[i])
    return "".join(characters)


def _styled(template: _Template, text: str, rng: random.Random) -> str:
    """One random styling of a filled template: each transform with its own chance."""
    language, is_request = template.language, template.kind in REQUEST_KINDS
    if is_request and rng.random() < 0.35:
        text = f"{rng.choice(_GREETINGS[language])} {text[0].lower()}{text[1:]}"
    if is_request and rng.random() < 0.3:
        text = f"{text} {rng.choice(_CLOSINGS[language])}"
    if is_request and rng.random() < 0.15:
        text = f"{text} {rng.choice(_ANGER[language])}"
    if rng.random() < 0.25:
        text = f"{rng.choice(_MENTIONS[language])} {text}"
    if rng.random() < 0.2:
        text = f"{text} {rng.choice(_HASHTAGS[language])}"
    if rng.random() < 0.25:
        emojis = _EMOJIS["request" if is_request else "other"]
        text = f"{text} {rng.choice(emojis) * rng.randint(1, 3)}"
    if language == "fr":
        if rng.random() < 0.2:
            text = _sms(text, _FRENCH_SMS, rng)
        if rng.random() < 0.4:
            text = _strip_accents(text)
    if language == "en" and rng.random() < 0.15:
        text = _sms(text, _ENGLISH_SMS, rng)
    if language != "ar" and rng.random() < 0.2:
        text = _typos(text, rng)
    if rng.random() < 0.3 and language != "ar":
        text = text.lower()
    elif is_request and rng.random() < 0.05:
        text = text.upper()
    if rng.random() < 0.15:
        text = text.rstrip(".!?") + rng.choice(("", "!!!", "??", " ...", "!"))
    return " ".join(text.split())


def _filled(text: str, slots: dict[str, list[str]], rng: random.Random) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in slots:
            raise ValueError(f"templates.txt: no filler for slot {{{name}}}")
        return rng.choice(slots[name])

    return re.sub(r"\{(\w+)\}", fill, text)


def generate(
    templates: Path = DATA / "templates.txt", slots: Path = DATA / "slots.txt"
) -> list[CorpusRow]:
    """Every template expanded (fillers × styles), duplicates removed; deterministic."""
    fillers = _slots(slots)
    rows: list[CorpusRow] = []
    seen: set[str] = set()
    for template in _templates(templates):
        seed = int(hashlib.sha256(template.text.encode()).hexdigest()[:12], 16)
        rng = random.Random(seed)
        is_request = template.kind in REQUEST_KINDS
        variants = REQUEST_VARIANTS if is_request else OTHER_VARIANTS
        # The plain filled template first: the corpus keeps the message as written.
        candidates = [_filled(template.text, fillers, rng)]
        for _ in range(variants * 3):
            if len(candidates) >= variants:
                break
            candidates.append(_styled(template, _filled(template.text, fillers, rng), rng))
        for text in candidates:
            key = text.casefold()
            if key in seen:
                continue
            seen.add(key)
            rows.append(
                CorpusRow(
                    text,
                    is_request,
                    template.service,
                    template.language,
                    template.kind,
                    template.group,
                )
            )
    return rows


def to_csv(rows: Sequence[CorpusRow]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [row.text, int(row.is_request), row.service, row.language, row.kind, row.group]
        )
    return out.getvalue()


def _read(content: str) -> list[CorpusRow]:
    reader = csv.DictReader(io.StringIO(content, newline=""))
    return [
        CorpusRow(
            record["text"],
            record["is_request"] == "1",
            record["service"],
            record["language"],
            record["kind"],
            record["group"],
        )
        for record in reader
    ]


@lru_cache(maxsize=1)
def _loaded(path: Path) -> tuple[CorpusRow, ...]:
    return tuple(_read(path.read_text(encoding="utf-8")))


def load_corpus(path: Path = CORPUS_FILE) -> list[CorpusRow]:
    """The stored corpus (``data/corpus.csv``)."""
    return list(_loaded(path))


def corpus_hash(path: Path = CORPUS_FILE) -> str:
    """Fingerprint of the stored corpus: part of the cached models' keys."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def main(argv: Sequence[str] = (), write: Callable[[str], object] = sys.stdout.write) -> int:
    """Regenerate ``data/corpus.csv`` from the templates (``--check``: only compare)."""
    content = to_csv(generate())
    if "--check" in argv:
        same = CORPUS_FILE.exists() and CORPUS_FILE.read_text(encoding="utf-8") == content
        write("corpus.csv is up to date\n" if same else "corpus.csv is stale\n")
        return 0 if same else 1
    CORPUS_FILE.write_text(content, encoding="utf-8")
    rows = _read(content)
    requests = sum(row.is_request for row in rows)
    write(f"wrote {len(rows)} rows ({requests} requests) to {CORPUS_FILE}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
