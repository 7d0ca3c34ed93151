"""Helpers shared by tests (no fixtures here: see conftest.py)."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlsplit

DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "redis": 6379, "amqp": 5672}


def service_reachable(url: str) -> bool:
    """Whether the server of ``url`` accepts TCP connections."""
    parts = urlsplit(url)
    port = parts.port or DEFAULT_PORTS.get(parts.scheme, 0)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


#: Statements that take SQLite's write lock. In the tests an ``atomic`` block is a
#: SAVEPOINT; in production it is ``BEGIN IMMEDIATE``, which takes the lock too.
WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "BEGIN", "CREATE", "DROP")


def write_statements(context: Any) -> list[str]:
    """The statements of a ``CaptureQueriesContext`` that write (their start)."""
    return [
        query["sql"][:120]
        for query in context.captured_queries
        if query["sql"].lstrip().upper().startswith(WRITE_STATEMENTS)
    ]
