"""Campaign parameters (``utm_source``…) added to the organization's own links in a post.

Only links to one of the organization's domains or their subdomains are tagged
(``ville.fr`` covers ``www.ville.fr``, not ``evilville.fr``): tagging someone else's site
would leak the campaign to them. A parameter already in the link is never replaced, the
query and fragment already there stay as written, and every other part of the text is left
byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from beffroi.connectors.post_limits import link_spans


def _ascii_host(host: str) -> str:
    """``host`` lower-cased, without a final dot, in its ASCII (IDNA) form when it has one."""
    host = host.strip().lower().rstrip(".")
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def is_own_link(link: str, own_domains: Iterable[str]) -> bool:
    """Whether ``link``'s host is one of ``own_domains`` or a subdomain of one."""
    try:
        host = urlsplit(link).hostname
    except ValueError:
        return False
    if not host:
        return False
    host = _ascii_host(host)
    for domain in own_domains:
        own = _ascii_host(domain)
        if own and (host == own or host.endswith("." + own)):
            return True
    return False


def tagged_link(link: str, params: Mapping[str, str]) -> str:
    """``link`` with the ``params`` it does not have yet added to its query, before its
    fragment; the parameters already there (whatever their case) stay as written."""
    base, hash_sign, fragment = link.partition("#")
    query = urlsplit(base).query
    present = {key.lower() for key, _ in parse_qsl(query, keep_blank_values=True)}
    missing = [(key, value) for key, value in params.items() if key.lower() not in present]
    if not missing:
        return link
    added = urlencode(missing, quote_via=quote)
    if "?" not in base:
        separator = "?"
    elif base.endswith(("?", "&")):
        separator = ""
    else:
        separator = "&"
    return f"{base}{separator}{added}{hash_sign}{fragment}"


def add_utm(text: str, own_domains: Iterable[str], params: Mapping[str, str]) -> str:
    """``text`` with ``params`` added to each link to the organization's ``own_domains``."""
    domains = tuple(own_domains)
    if not domains or not params:
        return text
    pieces: list[str] = []
    position = 0
    for start, end in link_spans(text):
        link = text[start:end]
        pieces.append(text[position:start])
        pieces.append(tagged_link(link, params) if is_own_link(link, domains) else link)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
