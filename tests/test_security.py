"""Secrets stay secret: logs, stored credentials, hashed passwords and API keys."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from beffroi.core.crypto import DecryptionError, decrypt_json, encrypt_json
from beffroi.core.logging import RedactSecretsFilter, redact


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("beffroi.test.redaction")
    logger.addFilter(RedactSecretsFilter())
    with caplog.at_level(logging.INFO, logger="beffroi.test.redaction"):
        logger.info("GET /api Authorization: Bearer abc.def-123 ok")
        logger.info("config %s", {"access_token": "s3cr3t-value", "password": "hunter2"})
    text = caplog.text
    assert "abc.def-123" not in text and "s3cr3t-value" not in text and "hunter2" not in text
    assert text.count("[redacted]") == 3


def test_redact_leaves_ordinary_text_alone() -> None:
    assert redact("Le marché est maintenu samedi") == "Le marché est maintenu samedi"


def test_credentials_round_trip_and_tampering_fails(settings: Any) -> None:
    token = encrypt_json({"access_token": "abc"})
    assert "abc" not in token
    assert decrypt_json(token) == {"access_token": "abc"}
    with pytest.raises(DecryptionError):
        decrypt_json(token[:-4] + "AAAA")
    settings.SECRET_KEY = "another-key"
    with pytest.raises(DecryptionError, match="BEFFROI_SECRET_KEY"):
        decrypt_json(token)


@pytest.mark.django_db
def test_passwords_are_hashed(real_hashers: None, make_user: Any) -> None:
    from tests.conftest import PASSWORD

    user = make_user("hash-check")
    assert PASSWORD not in user.password and user.password.startswith(("pbkdf2_", "argon2"))


@pytest.mark.django_db
def test_api_keys_are_stored_as_hashes(make_user: Any) -> None:
    from beffroi.accounts.models import ApiToken

    token, key = ApiToken.issue(make_user("k"), "script")
    assert key not in token.key_hash and ApiToken.objects.filter(key_hash=token.key_hash).exists()
    assert ApiToken.authenticate(key) == token
    token.revoked = True
    token.save()
    assert ApiToken.authenticate(key) is None
