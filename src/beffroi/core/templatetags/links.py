"""Stored addresses in templates: linked only when they are http(s).

``{{ value|http_url }}`` is the one filter for every ``href`` or ``src`` fed by stored or
platform data; ``{% external_link value text %}`` links ``text`` to ``value`` when it is
http(s) and shows the text unlinked otherwise.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from beffroi.connectors.values import web_address

register = template.Library()


@register.filter
def http_url(value: Any) -> str:
    return web_address(value)


@register.simple_tag
def external_link(url: Any, text: Any = "") -> SafeString:
    """A link that leaves Beffroi, or the text alone (in ``<code>`` when it is the address)."""
    href = web_address(url)
    label = text or url or ""
    if not href:
        if text:
            return format_html("{}", label)
        return format_html("<code>{}</code>", label)
    return format_html('<a href="{}" rel="noopener noreferrer nofollow">{}</a>', href, label)
