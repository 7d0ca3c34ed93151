"""Ids and timestamps of the demo town, written as the platforms write theirs.

Every id is derived from a key by SHA-256, never drawn at random: the same key gives the same
id, so loading the demo again finds the same items.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

__all__ = ["TID_EPOCH", "base32", "digits", "iso_fb", "iso_z", "tid", "token"]

_B32_SORTABLE = "234567abcdefghijklmnopqrstuvwxyz"
TID_EPOCH = 1_700_000_000_000_000  # microseconds: the record keys' clock starts here


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def digits(key: str, length: int) -> str:
    """A deterministic decimal string of ``length`` digits, not starting with 0."""
    value = int.from_bytes(_digest(key), "big")
    low = 10 ** (length - 1)
    return str(low + value % (9 * low))


def token(key: str, length: int) -> str:
    """A deterministic URL-safe token of ``length`` characters."""
    raw = base64.urlsafe_b64encode(_digest(key) + _digest(key + "+")).decode("ascii")
    return raw.replace("=", "")[:length]


def base32(key: str, length: int) -> str:
    """A deterministic string of ``length`` characters of the sortable base32 alphabet."""
    value = int.from_bytes(_digest(key), "big")
    return "".join(_B32_SORTABLE[(value >> (5 * i)) & 31] for i in range(length))


def tid(micros: int, clock: int) -> str:
    """An AT Protocol record key (TID): microseconds and a clock id, base32-sortable."""
    value = (micros << 10) | (clock & 1023)
    return "".join(_B32_SORTABLE[(value >> (5 * i)) & 31] for i in range(12, -1, -1))


def iso_z(moment: datetime) -> str:
    """``moment`` as Mastodon and Bluesky write times: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def iso_fb(moment: datetime) -> str:
    """``moment`` as Meta's Graph API writes times: UTC, ``+0000``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
