"""The visible text of a source's page, kept with its snapshot so that drafts can rest on it.

:func:`~beffroi.counterspeech.snapshots.read_page` hashes the body as it streams and keeps
none of it. Rather than read the page twice, :class:`KeepingTransport` goes between the
client and the (guarded) transport and keeps the last answer's body as it passes; its text
is then taken out of the HTML by the connectors' helper
(:func:`~beffroi.connectors.html_text.html_to_text`).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from beffroi import egress
from beffroi.connectors.html_text import html_to_text
from beffroi.counterspeech.models import SNAPSHOT_TEXT_CHARACTERS
from beffroi.counterspeech.snapshots import MAX_BODY_BYTES


class _Tee(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, keeper: KeepingTransport) -> None:
        self._stream = stream
        self._keeper = keeper

    def __iter__(self) -> Iterator[bytes]:
        kept = self._keeper.body
        for chunk in self._stream:
            room = MAX_BODY_BYTES - len(kept)
            if room > 0:
                kept.extend(chunk[:room])
            yield chunk

    def close(self) -> None:
        self._stream.close()


class KeepingTransport(httpx.BaseTransport):
    """Passes each exchange to ``inner`` (by default the guarded transport every reading
    goes through) and keeps the last answer's body (as sent: still compressed if it was) and
    headers; a redirect's answer is replaced by the next one."""

    def __init__(self, inner: httpx.BaseTransport | None = None) -> None:
        self.inner = inner or egress.guarded_transport()
        self.body = bytearray()
        self.headers = httpx.Headers()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        self.body = bytearray()
        self.headers = response.headers
        stream = response.stream
        if isinstance(stream, httpx.SyncByteStream):
            response.stream = _Tee(stream, self)
        return response

    def close(self) -> None:
        self.inner.close()

    def text(self) -> str:
        """The visible text of the page kept (empty for what is neither HTML nor text, or a
        body that does not decode)."""
        kind = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind not in ("text/html", "application/xhtml+xml", "text/plain"):
            return ""
        try:
            # A response built on the body kept decodes it as httpx does: the compression
            # its headers name, then its charset.
            decoded = httpx.Response(200, headers=self.headers, content=bytes(self.body)).text
        except httpx.DecodingError:
            return ""
        text = decoded if kind == "text/plain" else html_to_text(decoded)[0]
        return text[:SNAPSHOT_TEXT_CHARACTERS]
