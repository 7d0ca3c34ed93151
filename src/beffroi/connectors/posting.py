"""What the connectors share to publish a post: its files, read from the addresses the
publishing desk gives, and the platform's refusals typed.

A :class:`~beffroi.connectors.base.Media` to publish carries a signed public address of the
library file. Platforms that fetch media themselves (Facebook, Instagram) are given that
address; the others (Mastodon, Bluesky, X, Telegram) take the file's bytes in an upload, so
the connector reads it first with :func:`download`. The address comes from the desk, yet it is
read like any other outbound address (:mod:`beffroi.egress`): a library served from inside the
server's network is reached only where the operator allowed it, and plain ``http`` only
towards such a host. A file larger than the caller's bound is not read to the end.
"""

from __future__ import annotations

import contextlib
import mimetypes
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from beffroi import egress
from beffroi.connectors.base import ConnectorError, Media, Refused, TransientError
from beffroi.connectors.http import unreachable
from beffroi.connectors.post_limits import PostLimits

#: Seconds before reading a library file is abandoned.
DOWNLOAD_TIMEOUT = 60.0
#: Redirects followed (object storage may answer with one); each is a connection checked anew.
MAX_REDIRECTS = 3
#: Largest file read when the caller gives no bound (above every platform's video limit).
DEFAULT_MAX_BYTES = 600 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A media's bytes and their type, as the library served them."""

    media: Media
    content: bytes
    mime_type: str
    #: The file's name: the last segment of its address, or one made from its type.
    name: str


def download(
    media: Media,
    *,
    label: str,
    position: int = 1,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DOWNLOAD_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
) -> MediaFile:
    """The bytes of ``media`` (its ``url``), for a publication on ``label``.

    Raises :class:`Refused` when the address is not one to read (not https), answers that the
    file is not there (an expired link, a file removed from the library) or serves more than
    ``max_bytes``; :class:`TransientError` when it fails or does not answer in time;
    :class:`~beffroi.connectors.base.ConfigurationError` when it is inside the server's
    network and not allowed.
    """
    what = f"media {position}"
    parts = urlsplit(media.url)
    host = parts.hostname or ""
    if not host or not (
        parts.scheme == "https" or (parts.scheme == "http" and egress.allows_internal(host))
    ):
        raise Refused(f"{label}: {what} has no https address to read it from.")
    where = f"The media library ({host})"
    try:
        with (
            httpx.Client(
                transport=transport or egress.guarded_transport(),
                timeout=timeout,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
            ) as client,
            client.stream("GET", media.url) as response,
        ):
            _check_status(response, label, what)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_big(label, what, max_bytes)
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise _too_big(label, what, max_bytes)
                chunks.append(chunk)
            mime_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    except httpx.TimeoutException as exc:
        raise TransientError(f"{where} did not serve {what} in time for {label}.") from exc
    except httpx.TooManyRedirects as exc:
        raise Refused(f"{label}: the address of {what} redirects too many times.") from exc
    except httpx.TransportError as exc:
        raise unreachable(where, exc, f" while reading {what} for {label}") from exc
    if not mime_type or mime_type == "application/octet-stream":
        mime_type = mimetypes.guess_type(parts.path)[0] or "application/octet-stream"
    name = parts.path.rsplit("/", 1)[-1]
    if "." not in name:
        name = f"media{position}{mimetypes.guess_extension(mime_type) or ''}"
    return MediaFile(media=media, content=b"".join(chunks), mime_type=mime_type, name=name)


def download_all(
    media: tuple[Media, ...], limits: PostLimits | None, *, label: str
) -> list[MediaFile]:
    """Every file of ``media`` (:func:`download`), each bounded by what the network accepts
    for its kind (``limits``), before anything is sent to the platform."""
    files = []
    for position, medium in enumerate(media, start=1):
        bound = limits.media.bytes_limit(medium.kind) if limits and limits.media else None
        files.append(
            download(medium, label=label, position=position, max_bytes=bound or DEFAULT_MAX_BYTES)
        )
    return files


def _check_status(response: httpx.Response, label: str, what: str) -> None:
    status = response.status_code
    if status < 400:
        return
    if status >= 500 or status == 429:
        raise TransientError(
            f"{label}: the media library failed to serve {what} (HTTP {status}); it will be "
            "tried again."
        )
    raise Refused(
        f"{label}: {what} could not be read from the library (HTTP {status}): its link "
        "expired or the file was removed."
    )


def _too_big(label: str, what: str, max_bytes: int) -> ConnectorError:
    return Refused(f"{label}: {what} weighs more than the {max_bytes:,} bytes it accepts.")


def as_refusal(error: ConnectorError) -> ConnectorError:
    """``error`` of a publication: a request the platform declined with its reasons (what a
    connector raises as a plain :class:`ConnectorError`, a 4xx it has no class for: a text
    too long, a file it cannot take, a parameter it refuses) is :class:`Refused`, in the
    platform's words; the other errors stay what they are."""
    return Refused(str(error)) if type(error) is ConnectorError else error


@contextlib.contextmanager
def refusals_typed() -> Iterator[None]:
    """:func:`as_refusal` for the errors raised inside the block."""
    try:
        yield
    except ConnectorError as exc:
        refusal = as_refusal(exc)
        if refusal is exc:
            raise
        raise refusal from exc


def counts_of(data: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, int]:
    """A post's counts for ``post_metrics``: the whole numbers of ``data`` among ``names``
    (the platform's field: Beffroi's name, ``likes``, ``shares``, ``comments``, ``views``),
    under Beffroi's names; a count the platform did not give is left out."""
    return {
        name: data[key]
        for key, name in names.items()
        if isinstance(data.get(key), int) and not isinstance(data.get(key), bool)
    }
