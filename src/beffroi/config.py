"""Runtime configuration read from the environment only.

Kept free of Django so the command line, the library and the web application share it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def home() -> Path:
    """The data directory (``BEFFROI_HOME``, default ``./var``), created on first use."""
    path = Path(os.environ.get("BEFFROI_HOME", "var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """``DATABASE_URL`` or the embedded SQLite file in the data directory."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{home() / 'beffroi.sqlite3'}"


def broker_url() -> str | None:
    """``BEFFROI_BROKER_URL`` (Celery on Redis); ``None`` means background work in-process."""
    return os.environ.get("BEFFROI_BROKER_URL") or None


def port() -> int:
    return int(os.environ.get("BEFFROI_PORT", "8000"))


def secret_key() -> str:
    """``BEFFROI_SECRET_KEY``, else a key file in the data directory made on first start.

    The same key signs sessions and derives the key that encrypts platform tokens, so it is
    never written to logs and the key file is readable by its owner only.
    """
    value = os.environ.get("BEFFROI_SECRET_KEY")
    if value:
        return value
    key_file = Path(os.environ.get("BEFFROI_SECRET_KEY_FILE", home() / "secret.key"))
    if key_file.exists():
        return key_file.read_text().strip()
    value = secrets.token_urlsafe(50)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value


def debug() -> bool:
    return os.environ.get("BEFFROI_DEBUG", "").lower() in {"1", "true", "yes"}


def smtp() -> dict[str, str | int]:
    """The SMTP relay that sends alert e-mails (``BEFFROI_SMTP_*``); empty host: no e-mail."""
    return {
        "host": os.environ.get("BEFFROI_SMTP_HOST", ""),
        "port": int(os.environ.get("BEFFROI_SMTP_PORT", "587")),
        "username": os.environ.get("BEFFROI_SMTP_USER", ""),
        "password": os.environ.get("BEFFROI_SMTP_PASSWORD", ""),
        "security": os.environ.get("BEFFROI_SMTP_SECURITY", "starttls"),
        "sender": os.environ.get("BEFFROI_SMTP_FROM", "beffroi@localhost"),
    }


def public_url() -> str:
    """The address people reach the application at (``BEFFROI_PUBLIC_URL``), for links in
    alerts sent outside it."""
    return os.environ.get("BEFFROI_PUBLIC_URL", f"http://127.0.0.1:{port()}").rstrip("/")
