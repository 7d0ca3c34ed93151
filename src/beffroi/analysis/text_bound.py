"""The part of a text that analysis reads: all of it up to a bound, else its head and its tail.

An item may hold up to 4 MiB of text (an import's row limit). Fed whole to the sentence
encoder, such a comment takes gigabytes of memory (about 3 KB per character) and its PDF
dossier minutes. Every detector, encoder and renderer therefore reads
:func:`analysed_text`: a text of at most :data:`LIMIT` characters (every ordinary comment,
long ones of a few thousand characters included) whole, a longer one as its first
:data:`HEAD_CHARS` and last :data:`TAIL_CHARS` characters joined by :data:`OMISSION`. The
head carries what a comment says; the tail catches what is appended after padding. The
stored text is never changed: it stays the evidence.
"""

from __future__ import annotations

from typing import Final

__all__ = ["HEAD_CHARS", "LIMIT", "OMISSION", "TAIL_CHARS", "analysed_text", "is_cut"]

HEAD_CHARS: Final = 8_000
TAIL_CHARS: Final = 2_000
#: Put where the middle was left out; a blank line around it keeps the two parts apart.
OMISSION: Final = "\n[…]\n"
#: Texts up to this many characters are read whole; a cut text is exactly this long, so
#: cutting it again changes nothing.
LIMIT: Final = HEAD_CHARS + len(OMISSION) + TAIL_CHARS


def is_cut(text: str) -> bool:
    """Whether analysis reads only the head and the tail of ``text``."""
    return len(text) > LIMIT


def analysed_text(text: str) -> str:
    """``text`` itself, or its head and tail when it is longer than :data:`LIMIT`."""
    if not is_cut(text):
        return text
    return text[:HEAD_CHARS] + OMISSION + text[-TAIL_CHARS:]
