"""Reading a source's page to keep a fingerprint of it: the SHA-256 of its body.

Every connection goes through :func:`beffroi.egress.guarded_transport`: the address is checked
after DNS resolution, each redirect too, and an address inside the server's network reads
like any unreachable one (:data:`beffroi.egress.UNREACHABLE`). A failure is raised as
:class:`SnapshotError` with a sentence for the people who read the entry.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import httpx

from beffroi import egress

#: Seconds to wait for the page's server.
TIMEOUT = 20.0
#: A source is a page, not a download: its body is read up to this size.
MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "Beffroi (counter-speech library: checking a source for changes)"


class SnapshotError(Exception):
    """The page could not be read; the message says why in a sentence."""


@dataclass(frozen=True)
class PageDigest:
    sha256: str
    size_bytes: int
    final_url: str


def read_page(url: str, *, transport: httpx.BaseTransport | None = None) -> PageDigest:
    """The fingerprint of the body ``url`` answers with (after redirects)."""
    digest = hashlib.sha256()
    size = 0
    try:
        with (
            httpx.Client(
                transport=transport or egress.guarded_transport(),
                timeout=TIMEOUT,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                headers={"User-Agent": USER_AGENT},
            ) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise SnapshotError(
                    f"The page could not be read: its server answered {response.status_code}."
                )
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise SnapshotError(
                        f"The page is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB: "
                        "it is not read."
                    )
                digest.update(chunk)
            final_url = str(response.url)
    except httpx.TooManyRedirects as exc:
        raise SnapshotError(
            f"The page could not be read: it redirects more than {MAX_REDIRECTS} times."
        ) from exc
    except httpx.TimeoutException as exc:
        raise SnapshotError(
            "The page could not be read: its server did not answer in time."
        ) from exc
    except httpx.HTTPError as exc:
        raise SnapshotError(f"The page {egress.UNREACHABLE}.") from exc
    return PageDigest(digest.hexdigest(), size, final_url)
