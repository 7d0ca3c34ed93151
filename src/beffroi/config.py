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


def cache_dir() -> Path:
    """Where trained models, embeddings and indexes are kept between runs: ``BEFFROI_CACHE``,
    default ``<data directory>/cache``. Everything in it is named by a hash of what made it,
    so data directories may share one (the test suite's two passes and the bench it runs do:
    the default classifier is then trained once, not once per data directory)."""
    configured = os.environ.get("BEFFROI_CACHE")
    path = Path(configured).resolve() if configured else home() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """``DATABASE_URL`` or the embedded SQLite file in the data directory."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{home() / 'beffroi.sqlite3'}"


def broker_url() -> str | None:
    """``BEFFROI_BROKER_URL`` (Celery on Redis); ``None`` means background work in-process."""
    return os.environ.get("BEFFROI_BROKER_URL") or None


#: The database table of the shared cache when there is no Redis.
CACHE_TABLE = "beffroi_cache"
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def is_redis(url: str | None) -> bool:
    """Whether ``url`` is a Redis server's address (the broker's may be another kind)."""
    return bool(url) and str(url).startswith(_REDIS_SCHEMES)


def cache_url() -> str | None:
    """The Redis of the shared cache (login throttling): ``BEFFROI_CACHE_URL``, else the
    broker's when it is Redis; ``None`` means a table of the database (:data:`CACHE_TABLE`)."""
    explicit = os.environ.get("BEFFROI_CACHE_URL", "").strip()
    if explicit:
        if not is_redis(explicit):
            raise ValueError(
                f"BEFFROI_CACHE_URL must be a Redis address (redis://, rediss:// or unix://), "
                f"not {explicit!r}"
            )
        return explicit
    broker = broker_url()
    return broker if is_redis(broker) else None


#: Jobs that may judge one organization's new items side by side (PostgreSQL), unless
#: ``BEFFROI_JUDGING_JOBS`` says otherwise: more than the workers is harmless (a job that
#: finds nothing left ends at once), fewer leaves workers idle during a burst.
DEFAULT_JUDGING_JOBS = 8


def judging_jobs() -> int:
    """``BEFFROI_JUDGING_JOBS``: how many workers may judge one organization at once."""
    raw = os.environ.get("BEFFROI_JUDGING_JOBS", "").strip()
    if not raw:
        return DEFAULT_JUDGING_JOBS
    if not raw.isdigit() or not 1 <= int(raw) <= 256:
        raise ValueError(f"BEFFROI_JUDGING_JOBS must be a whole number from 1 to 256, not {raw!r}")
    return int(raw)


#: Comments waiting for their judgement from which a scheduled sync stops after its batch.
DEFAULT_INGESTION_BACKLOG = 5000


def ingestion_backlog() -> int:
    """``BEFFROI_INGESTION_BACKLOG``: items of an organization waiting for their judgement
    beyond which a scheduled sync holds back (0: never)."""
    raw = os.environ.get("BEFFROI_INGESTION_BACKLOG", "").strip()
    if not raw:
        return DEFAULT_INGESTION_BACKLOG
    if not raw.isdigit():
        raise ValueError(f"BEFFROI_INGESTION_BACKLOG must be a whole number, not {raw!r}")
    return int(raw)


def port() -> int:
    return int(os.environ.get("BEFFROI_PORT", "8000"))


MEGABYTE = 1024 * 1024
#: Room around a file in a request: the form's other fields and the multipart framing.
REQUEST_FRAMING_BYTES = MEGABYTE
#: The largest file the web interface takes for an import (items, fact-checks).
MAX_UPLOAD_BYTES = 10 * MEGABYTE
#: The largest request body any address takes: an upload, its form fields and framing.
#: Larger requests are refused before the application reads them (``web/request_limits.py``),
#: except on the media library's upload address.
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + REQUEST_FRAMING_BYTES

#: The largest image the publishing desk's media library keeps.
MAX_IMAGE_BYTES = 20 * MEGABYTE
#: The largest video it keeps, in megabytes, unless ``BEFFROI_MAX_VIDEO_MB`` says otherwise.
DEFAULT_MAX_VIDEO_MB = 200


def max_video_bytes() -> int:
    """``BEFFROI_MAX_VIDEO_MB``: the largest video the media library keeps (default 200 MB).

    The platforms take longer videos than this (TikTok and Reels, several gigabytes through
    their APIs); an operator raises it where the disk and the network allow, or lowers it.
    """
    raw = os.environ.get("BEFFROI_MAX_VIDEO_MB", "").strip()
    if not raw:
        return DEFAULT_MAX_VIDEO_MB * MEGABYTE
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(
            f"BEFFROI_MAX_VIDEO_MB must be a whole number of megabytes (1 or more), not {raw!r}"
        )
    return int(raw) * MEGABYTE


#: Read once, at start: the media library, the web server and the pages say the same limit.
MAX_VIDEO_BYTES = max_video_bytes()
#: The largest file the media library keeps, of either kind.
MAX_MEDIA_BYTES = max(MAX_IMAGE_BYTES, MAX_VIDEO_BYTES)
#: The largest request body the media library's upload address takes (``beffroi serve``
#: gives it to waitress as its own limit: nothing larger is read at all).
MAX_MEDIA_REQUEST_BYTES = MAX_MEDIA_BYTES + REQUEST_FRAMING_BYTES


def upload_dir() -> Path:
    """Where uploads wait while they are imported (``BEFFROI_HOME/uploads``), created on first
    use; what a killed process left there is removed when the server starts."""
    path = home() / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


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


def flag(name: str) -> bool:
    """A yes/no variable: ``1``, ``true`` or ``yes`` (any case) mean yes, anything else no."""
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


def debug() -> bool:
    return flag("BEFFROI_DEBUG")


def proxy_address() -> str | None:
    """The reverse proxy's address when ``BEFFROI_BEHIND_PROXY`` is set, else None.

    ``BEFFROI_PROXY_ADDRESS`` (default ``127.0.0.1``; ``*`` for any, when only the proxy can
    reach Beffroi's port): ``beffroi serve`` believes the X-Forwarded headers from there only.
    """
    if not flag("BEFFROI_BEHIND_PROXY"):
        return None
    return os.environ.get("BEFFROI_PROXY_ADDRESS", "").strip() or "127.0.0.1"


#: One year: what browsers and the HSTS preload list expect of a site that stays on HTTPS.
DEFAULT_HSTS_SECONDS = 365 * 24 * 3600


def hsts_seconds() -> int:
    """``BEFFROI_HSTS_SECONDS``: how long browsers must use HTTPS only (0: no HSTS header)."""
    raw = os.environ.get("BEFFROI_HSTS_SECONDS", "").strip()
    if not raw:
        return DEFAULT_HSTS_SECONDS
    if not raw.isdigit():
        raise ValueError(
            f"BEFFROI_HSTS_SECONDS must be a whole number of seconds (0 turns HSTS off), not {raw!r}"
        )
    return int(raw)


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
