"""Encryption at rest for platform credentials.

The key is derived (HKDF-SHA256) from ``BEFFROI_SECRET_KEY`` or the key file, so there is one
secret to keep. Fernet gives authenticated encryption: a tampered or foreign value fails
loudly instead of decrypting to garbage.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class DecryptionError(Exception):
    """Stored credentials cannot be read with the current key."""


def _fernet() -> Fernet:
    raw = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"beffroi-credentials-v1", info=b"fernet"
    ).derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(raw))


def encrypt_json(value: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        data = json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise DecryptionError(
            "Stored credentials cannot be decrypted: was BEFFROI_SECRET_KEY changed?"
        ) from exc
    if not isinstance(data, dict):
        raise DecryptionError("Stored credentials are not a mapping.")
    return data
