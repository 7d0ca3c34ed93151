"""Keep secrets out of logs."""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    re.compile(r"(?i)(authorization:\s*bearer\s+)[^\s'\"]+"),
    re.compile(
        r"(?i)((?:access_token|token|password|secret|api_key)[\"']?\s*[:=]\s*[\"']?)[^\s'\",&]+"
    ),
]


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(r"\1[redacted]", text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites bearer tokens, passwords and similar values in every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
