"""Impersonation: accounts whose name, handle or photo imitates a protected identity.

An organization declares its protected identities (its official accounts, its officials'
names, handles and photos) and an allow-list of accounts that are genuinely its own. Every
other account seen is compared with them on three kinds of evidence:

- **look-alike spelling**: both names are reduced to a *skeleton* (Unicode NFKC, look-alike
  letters from other scripts folded, accents removed, ``1 i l |`` and ``0 o`` merged, ``rn``
  read as ``m``, separators and words such as "official"/"officiel" dropped); equal skeletons
  with different spellings are the classic impersonation (``Mairie`` written with a Cyrillic
  ``М``, ``C1aire_Martin``);
- **near spelling**: Jaro-Winkler similarity and Levenshtein distance of the skeletons
  (``mairie_saintaubin`` against ``mairiesaintaubin2``), and the share of the identity's
  name words found in the account's display name (token set ratio);
- **photo**: Hamming distance between 64-bit perceptual hashes of the avatars (ImageHash's
  pHash), which survives resizing, recompression and small edits.

Each suspect carries its score and the reasons in words, ready for the platform's
impersonation report. Plain Python over plain data: no Django needed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import JaroWinkler, Levenshtein
from rapidfuzz.fuzz import token_set_ratio

__all__ = [
    "Account",
    "ImpersonationSuspect",
    "ProtectedIdentity",
    "avatar_hash",
    "find_impersonators",
    "skeleton",
]

#: A suspect is reported from this score on (0–1).
DEFAULT_THRESHOLD = 0.85
#: Skeletons shorter than this are too short to compare by similarity (only exact look-alikes).
MIN_SIMILARITY_LENGTH = 5
#: Perceptual hashes at most this many bits apart (of 64) are the same picture.
AVATAR_MAX_DISTANCE = 10

# Words impersonators add to look genuine; they say nothing about who the account imitates.
_FILLER_WORDS = frozenset(
    "official officiel officielle real vrai vraie the le la les de du des of fr page compte "
    "account team equipe info infos news actu".split()
)
_LOOKALIKE_GROUPS = {"1": "l", "i": "l", "|": "l", "!": "l", "0": "o"}
_LEET = {"3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s"}
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)
def _folded(text: str) -> str:
    from beffroi.analysis.moderation.normalize import normalize

    folded = str(normalize(text).text)
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def skeleton(text: str) -> str:
    """What a name looks like once look-alike characters, separators and filler words are
    gone: two names with the same skeleton read the same to a hurried eye."""
    folded = _folded(text.strip().lstrip("@"))
    words = [word for word in re.split(r"[\s_.\-]+", folded) if word]
    kept = [word for word in words if word not in _FILLER_WORDS] or words
    joined = "".join(kept).replace("rn", "m").replace("vv", "w")
    chars = (_LEET.get(char, char) for char in joined)
    merged = "".join(_LOOKALIKE_GROUPS.get(char, char) for char in chars)
    return _NON_ALNUM.sub("", merged)


def avatar_hash(image: Any) -> str:
    """The 64-bit perceptual hash (hex) of a PIL image, as stored for identities and accounts."""
    import imagehash

    return str(imagehash.phash(image))


def _hash_distance(first: str, second: str) -> int | None:
    try:
        return (int(first, 16) ^ int(second, 16)).bit_count()
    except ValueError:
        return None


@dataclass(frozen=True)
class ProtectedIdentity:
    """Someone or something the organization protects: a name, its official handles and
    display names, and the perceptual hashes of its photos."""

    name: str
    handles: tuple[str, ...] = ()
    display_names: tuple[str, ...] = ()
    avatar_hashes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Account:
    """An account seen on a platform."""

    platform: str
    platform_id: str
    handle: str
    display_name: str = ""
    avatar_hash: str = ""


@dataclass(frozen=True)
class ImpersonationSuspect:
    account: Account
    identity: str
    score: float
    reasons: tuple[str, ...] = field(default_factory=tuple)


def _name_evidence(value: str, official: str, kind: str) -> tuple[float, str] | None:
    """How strongly ``value`` imitates ``official``, and why; None when it does not."""
    if not value or not official:
        return None
    if value.strip().lstrip("@").casefold() == official.strip().lstrip("@").casefold():
        return 0.95, f"{kind} '{value}' is the same as the official '{official}'"
    mine, theirs = skeleton(value), skeleton(official)
    if not mine or not theirs:
        return None
    if mine == theirs:
        return (
            0.97,
            f"{kind} '{value}' reads the same as the official '{official}' (look-alike characters)",
        )
    if min(len(mine), len(theirs)) < MIN_SIMILARITY_LENGTH:
        return None
    similarity = JaroWinkler.normalized_similarity(mine, theirs)
    distance = Levenshtein.distance(mine, theirs)
    if distance <= 2 and similarity >= 0.9:
        return (
            0.9 + 0.05 * (2 - distance) / 2,
            f"{kind} '{value}' is {distance} letter(s) away from the official '{official}'",
        )
    if similarity >= 0.93:
        return (
            similarity - 0.05,
            f"{kind} '{value}' is {similarity:.0%} similar to the official '{official}' "
            "(Jaro-Winkler)",
        )
    if theirs in mine and len(theirs) >= 8:
        return 0.88, f"{kind} '{value}' contains the official '{official}'"
    return None


def _display_evidence(display_name: str, identity: ProtectedIdentity) -> tuple[float, str] | None:
    best: tuple[float, str] | None = None
    for official in (identity.name, *identity.display_names):
        found = _name_evidence(display_name, official, "display name")
        if found is None and display_name and official:
            ratio = token_set_ratio(_folded(display_name), _folded(official)) / 100.0
            if ratio >= 0.99 and len(official.split()) >= 2:
                found = (0.86, f"display name '{display_name}' holds every word of '{official}'")
        if found is not None and (best is None or found[0] > best[0]):
            best = found
    return best


def _evidence(account: Account, identity: ProtectedIdentity) -> tuple[float, list[str]]:
    found: list[tuple[float, str]] = []
    handle_hits = [_name_evidence(account.handle, h, "handle") for h in identity.handles]
    handle_best = max((hit for hit in handle_hits if hit), default=None, key=lambda h: h[0])
    if handle_best is not None:
        found.append(handle_best)
    display = _display_evidence(account.display_name, identity)
    if display is not None:
        found.append(display)
    if account.avatar_hash:
        distances = [
            d
            for d in (_hash_distance(account.avatar_hash, h) for h in identity.avatar_hashes)
            if d is not None
        ]
        if distances and min(distances) <= AVATAR_MAX_DISTANCE:
            found.append(
                (
                    0.9,
                    f"profile photo matches an official photo ({min(distances)} of 64 bits differ)",
                )
            )
    if not found:
        return 0.0, []
    scores = sorted((score for score, _ in found), reverse=True)
    # Several independent resemblances (name and photo) make the case stronger.
    score = min(1.0, scores[0] + 0.04 * (len(scores) - 1))
    return score, [reason for _, reason in sorted(found, reverse=True)]


def find_impersonators(
    accounts: Iterable[Account],
    identities: Sequence[ProtectedIdentity],
    *,
    allowed: Iterable[tuple[str, str]] = (),
    threshold: float = DEFAULT_THRESHOLD,
) -> list[ImpersonationSuspect]:
    """Accounts that imitate one of ``identities``, strongest first. ``allowed`` holds
    ``(platform, platform_id)`` pairs of the genuine accounts, which are never reported."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError("threshold must be in (0, 1]")
    genuine = set(allowed)
    suspects: list[ImpersonationSuspect] = []
    for account in accounts:
        if (account.platform, account.platform_id) in genuine:
            continue
        best: ImpersonationSuspect | None = None
        for identity in identities:
            score, reasons = _evidence(account, identity)
            if score >= threshold and (best is None or score > best.score):
                best = ImpersonationSuspect(account, identity.name, round(score, 3), tuple(reasons))
        if best is not None:
            suspects.append(best)
    suspects.sort(key=lambda suspect: (-suspect.score, suspect.account.handle))
    return suspects
