"""Addresses that came from outside (platforms, imports, forms) and may become links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

#: The only schemes a stored address may be linked with: never ``javascript:``, ``data:``,
#: ``vbscript:`` or a scheme an operating system hands to another program.
LINKABLE_SCHEMES = frozenset({"http", "https"})


def http_url(value: Any) -> str:
    """``value`` if it is an http(s) address with a host, else "".

    ``urlsplit`` drops the tabs and newlines browsers drop too, so ``java\\tscript:`` is seen
    as the ``javascript:`` it would become; anything but a string is refused.
    """
    if not isinstance(value, str) or not value:
        return ""
    address = value.strip()
    try:
        parts = urlsplit(address)
    except ValueError:
        return ""
    if parts.scheme.lower() not in LINKABLE_SCHEMES or not parts.netloc:
        return ""
    return address
