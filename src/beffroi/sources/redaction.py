"""Secrets inside a source's settings: shown as a placeholder, kept when it comes back.

Credentials are stored encrypted apart and never shown. A setting can carry a secret too: a
private feed's key in the query string of its address, a user and password in an address,
or an option the connector declares secret that a client put among the settings. Every face
shows settings through :func:`redact` (the API, the edit form, the audit trail), and
:func:`restore` puts the stored secret back where the placeholder comes back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any
from urllib.parse import unquote_plus

#: What a hidden value reads as.
REDACTED = "[redacted]"

#: Addresses inside a text (a setting may hold several, separated by spaces or commas).
_ADDRESS = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s,;\"'<>]+")
#: Words of a parameter's or a setting's name that say it holds a secret.
_SECRET_WORDS = frozenset(
    {
        "auth",
        "authorization",
        "credential",
        "credentials",
        "key",
        "pass",
        "passwd",
        "password",
        "pwd",
        "secret",
        "session",
        "sig",
        "signature",
        "token",
    }
)
#: Endings of names written without separators (``apikey``, ``accessToken``).
_SECRET_ENDINGS = ("key", "password", "secret", "signature", "token")


def is_secret_name(name: str) -> bool:
    """Whether a query parameter or a setting called ``name`` holds a secret."""
    lowered = name.lower()
    words = re.split(r"[^a-z0-9]+", lowered)
    compact = "".join(words)
    return any(word in _SECRET_WORDS for word in words) or compact.endswith(_SECRET_ENDINGS)


def redact(settings: dict[str, Any], secret_options: Collection[str] = ()) -> dict[str, Any]:
    """``settings`` as shown: secrets inside replaced by :data:`REDACTED`.

    Hidden: the values of ``secret_options`` (options the connector declares secret) and of
    settings whose name says secret, and inside every address the user and password and the
    query or fragment parameters whose name says secret (``key``, ``token``, ``sig``…).
    """
    return {
        key: _redact(value, secret=key in secret_options or is_secret_name(str(key)))
        for key, value in settings.items()
    }


def redact_addresses(text: str) -> str:
    """``text`` as shown: inside each address in it, the user and password and the query or
    fragment parameters whose name says secret replaced by :data:`REDACTED`."""
    return str(_redact(text, secret=False))


def restore(
    incoming: dict[str, Any], stored: dict[str, Any], secret_options: Collection[str] = ()
) -> dict[str, Any]:
    """``incoming`` settings with the stored secrets back where their placeholder came back.

    A value equal to what :func:`redact` shows of the stored one is the stored one. An
    address edited around its hidden parts gets them back from the stored address of the
    same host. Placeholders with nothing stored behind them are left: see :func:`hidden_left`.
    """
    return {
        key: _restore(
            value, stored.get(key), secret=key in secret_options or is_secret_name(str(key))
        )
        for key, value in incoming.items()
    }


def hidden_left(settings: Any) -> bool:
    """Whether a placeholder is left in ``settings`` (a value to type again)."""
    if isinstance(settings, dict):
        return any(hidden_left(value) for value in settings.values())
    if isinstance(settings, list):
        return any(hidden_left(value) for value in settings)
    return isinstance(settings, str) and REDACTED in settings


def _redact(value: Any, *, secret: bool) -> Any:
    if secret and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return _ADDRESS.sub(lambda match: _redact_address(match.group()), value)
    if isinstance(value, dict):
        return {k: _redact(v, secret=is_secret_name(str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secret=False) for v in value]
    return value


def _restore(value: Any, stored: Any, *, secret: bool) -> Any:
    if stored is not None and value == _redact(stored, secret=secret):
        return stored
    if isinstance(value, dict) and isinstance(stored, dict):
        return {
            k: _restore(v, stored.get(k), secret=is_secret_name(str(k))) for k, v in value.items()
        }
    if isinstance(value, list) and isinstance(stored, list) and len(value) == len(stored):
        return [_restore(v, s, secret=False) for v, s in zip(value, stored, strict=True)]
    if isinstance(value, str) and REDACTED in value and isinstance(stored, str):
        addresses = [_Address(text) for text in _ADDRESS.findall(stored)]
        return _ADDRESS.sub(lambda match: _restore_address(match.group(), addresses), value)
    return value


class _Address:
    """An address cut into the parts redaction works on, kept verbatim."""

    def __init__(self, text: str) -> None:
        self.scheme, self.separator, rest = text.partition("://")
        rest, self.hash, self.fragment = rest.partition("#")
        rest, self.question, self.query = rest.partition("?")
        authority, self.slash, self.path = rest.partition("/")
        userinfo, at, self.host = authority.rpartition("@")
        self.userinfo = userinfo if at else None

    def __str__(self) -> str:
        authority = self.host if self.userinfo is None else f"{self.userinfo}@{self.host}"
        return (
            f"{self.scheme}{self.separator}{authority}{self.slash}{self.path}"
            f"{self.question}{self.query}{self.hash}{self.fragment}"
        )


def _pairs(text: str) -> list[tuple[str, str | None]]:
    """``a=1&b`` as ``[("a", "1"), ("b", None)]``."""
    found: list[tuple[str, str | None]] = []
    for part in text.split("&") if text else []:
        name, equals, value = part.partition("=")
        found.append((name, value if equals else None))
    return found


def _join(pairs: list[tuple[str, str | None]]) -> str:
    return "&".join(name if value is None else f"{name}={value}" for name, value in pairs)


def _redact_pairs(text: str) -> str:
    pairs = _pairs(text)
    hidden = [
        (name, REDACTED if value and is_secret_name(unquote_plus(name)) else value)
        for name, value in pairs
    ]
    return text if hidden == pairs else _join(hidden)


def _redact_address(text: str) -> str:
    address = _Address(text)
    if address.userinfo:
        address.userinfo = REDACTED
    address.query = _redact_pairs(address.query)
    address.fragment = _redact_pairs(address.fragment)
    return str(address)


def _restore_pairs(text: str, stored: str) -> str:
    if REDACTED not in text:
        return text
    known: dict[str, str | None] = {}
    for name, value in _pairs(stored):
        known.setdefault(name, value)
    return _join(
        [
            (name, known.get(name, value) if value == REDACTED else value)
            for name, value in _pairs(text)
        ]
    )


def _restore_address(text: str, stored: list[_Address]) -> str:
    if REDACTED not in text:
        return text
    address = _Address(text)
    same_host = [s for s in stored if s.host == address.host and s.scheme == address.scheme]
    if not same_host:
        return text
    source = same_host[0]
    if address.userinfo == REDACTED and source.userinfo is not None:
        address.userinfo = source.userinfo
    address.query = _restore_pairs(address.query, source.query)
    address.fragment = _restore_pairs(address.fragment, source.fragment)
    return str(address)
