"""Exit 0 if the server of a database or broker URL accepts TCP connections on loopback."""

import socket
import sys
from urllib.parse import urlsplit

DEFAULT_PORTS = {"postgres": 5432, "postgresql": 5432, "redis": 6379}

url = urlsplit(sys.argv[1])
port = url.port or DEFAULT_PORTS.get(url.scheme, 0)
try:
    socket.create_connection((url.hostname or "127.0.0.1", port), timeout=2).close()
except OSError:
    sys.exit(1)
