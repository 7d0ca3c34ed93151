"""Signed brief files between two Beffroi instances.

A file is a JSON object a person can read (what they import is what they see), with a
``signature`` field: ``hmac-sha256:<hex>``, the HMAC-SHA256 of the file's *canonical* JSON
without that field (keys sorted, no spaces, UTF-8, :func:`canonical`) under a secret the two
organizations share. Why this, and not Django's ``signing``:

- ``django.core.signing`` makes an opaque token (base64 of the value and its signature): the
  file would no longer be readable, and checking it would take Django's own format;
- an HMAC over canonical JSON is checked by any language's standard library, and the whole
  content (who signed, for whom, until when) is under the signature, so changing any byte of
  it (a post's address, the expiry) makes the signature fail;
- a shared secret per pair of organizations (a *link*) rather than one key per instance:
  each partner is given only its own, a leaked one is replaced without touching the others,
  and a file signed for one partner does not open at another's (``key_id`` names which
  secret; :func:`verify` compares in constant time).

The secret travels once, by hand, as a *link code* (:func:`link_code`), shown once to the
organization that made it and pasted by the other; both keep it encrypted at rest.

This module knows nothing of Django: the services read what it returns and say the refusals
in the reader's language (the :class:`SignatureProblem` codes).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

#: The two kinds of files, and the version of their format.
BRIEF_FORMAT = "beffroi.brief"
RESPONSES_FORMAT = "beffroi.brief-responses"
VERSION = 1
SIGNATURE_PREFIX = "hmac-sha256:"
#: ``bfl1.<key id>.<secret>``: what one side gives the other, once.
LINK_PREFIX = "bfl1"
#: A file larger than this is not read.
MAX_BYTES = 2 * 1024 * 1024


class SignatureProblem(Exception):
    """Why a file cannot be trusted: ``code`` is ``malformed``, ``unsigned``, ``format``,
    ``version`` or ``signature``."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail


def canonical(document: dict[str, Any]) -> bytes:
    """The bytes the signature covers: the document without its signature, keys sorted,
    no insignificant space, UTF-8."""
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    return json.dumps(
        unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def signature_of(document: dict[str, Any], secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), canonical(document), hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def sign(document: dict[str, Any], secret: str) -> dict[str, Any]:
    """``document`` with its signature."""
    return {**document, "signature": signature_of(document, secret)}


def dumps(document: dict[str, Any]) -> str:
    """The file as written: indented for a person; the signature does not depend on it."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def parse(data: bytes | str, expected_format: str) -> dict[str, Any]:
    """The document of a file, before its signature is checked: a JSON object of the
    expected format and version, with a key id and a signature."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise SignatureProblem("malformed", "too large")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SignatureProblem("malformed", "not UTF-8") from exc
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise SignatureProblem("malformed", "not JSON") from exc
    if not isinstance(document, dict):
        raise SignatureProblem("malformed", "not an object")
    given_format = document.get("format")
    if given_format != expected_format:
        raise SignatureProblem("format", str(given_format)[:100])
    if document.get("version") != VERSION:
        raise SignatureProblem("version", str(document.get("version"))[:20])
    if not isinstance(document.get("key_id"), str) or not document["key_id"]:
        raise SignatureProblem("unsigned", "no key id")
    if not isinstance(document.get("signature"), str):
        raise SignatureProblem("unsigned", "no signature")
    return document


def verify(document: dict[str, Any], secret: str) -> None:
    """Raise unless ``document`` was signed with ``secret`` and not changed since."""
    given = document.get("signature")
    if not isinstance(given, str) or not given.startswith(SIGNATURE_PREFIX):
        raise SignatureProblem("unsigned")
    try:
        expected = signature_of(document, secret)
    except ValueError as exc:  # a value JSON cannot write back the same (NaN)
        raise SignatureProblem("malformed", str(exc)) from exc
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise SignatureProblem("signature")


# --- links -----------------------------------------------------------------------------------


def new_link() -> tuple[str, str]:
    """A new key id (public) and secret (shared by the two sides only)."""
    return secrets.token_hex(8), secrets.token_urlsafe(32)


def link_code(key_id: str, secret: str) -> str:
    return f"{LINK_PREFIX}.{key_id}.{secret}"


def read_link_code(code: str) -> tuple[str, str] | None:
    """The key id and the secret of a link code, or None if it is not one."""
    parts = code.strip().split(".")
    if len(parts) != 3 or parts[0] != LINK_PREFIX:
        return None
    key_id, secret = parts[1], parts[2]
    if len(key_id) != 16 or any(c not in "0123456789abcdef" for c in key_id):
        return None
    if len(secret) < 32 or len(secret) > 100:
        return None
    return key_id, secret
