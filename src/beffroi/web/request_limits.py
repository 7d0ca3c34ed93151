"""The size of a request body, by address, refused before Django reads it.

Every address takes a body of ``config.MAX_REQUEST_BYTES`` at most (an import of 10 MB and
its framing), except the media library's upload address, which takes the largest media the
library keeps (``config.MAX_MEDIA_REQUEST_BYTES``: a TikTok or Reels video). One number given
to the web server cannot say that, so ``beffroi serve`` gives waitress the media limit, and
:class:`RequestSizeLimits`, wrapped around the Django application (outermost), answers 413 to
a larger body on any other address without calling the application:

- with ``Content-Length``, from the header alone. Under waitress a body always has one:
  waitress reads a chunked body whole (to a temporary file past ``inbuf_overflow``), refusing
  it past ``max_request_body_size``, then gives its length to the application;
- without (a chunked body under another server), ``wsgi.input`` is wrapped so that a read
  past the limit raises :class:`RequestBodyTooLarge`, and whatever the application answered
  is replaced by the 413.

The 413 is the translated page of ``core/uploads.py`` (:func:`body_too_large_response`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import IO
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from django.core.handlers.wsgi import WSGIRequest, get_path_info
from django.http import Http404
from django.urls import resolve

from beffroi import config
from beffroi.core.uploads import body_too_large_response

ExcInfo = tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]


@dataclass(frozen=True)
class BodyLimit:
    """What an address takes: a body of ``request_bytes`` at most, that is a file of
    ``file_bytes`` (what the 413 page says); ``splittable``: the page advises cutting it."""

    request_bytes: int
    file_bytes: int
    splittable: bool = True


#: Every address but those of :data:`LARGER_BODIES`.
ORDINARY = BodyLimit(config.MAX_REQUEST_BYTES, config.MAX_UPLOAD_BYTES)
#: The media library's upload: the largest image or video it keeps, and framing.
MEDIA_UPLOAD = BodyLimit(config.MAX_MEDIA_REQUEST_BYTES, config.MAX_MEDIA_BYTES, splittable=False)
#: The routes (by URL name) whose POST takes a larger body. The composer uploads no file: it
#: picks media from the library.
LARGER_BODIES = {"publishing:media": MEDIA_UPLOAD}


def limit_for(environ: WSGIEnvironment) -> BodyLimit:
    """The limit of the address ``environ`` asks for, found the way Django will route it."""
    if str(environ.get("REQUEST_METHOD", "")).upper() != "POST":
        return ORDINARY
    try:
        match = resolve(get_path_info(environ) or "/")
    except Http404:  # Resolver404: no such address
        return ORDINARY
    return LARGER_BODIES.get(match.view_name, ORDINARY)


def declared_length(environ: WSGIEnvironment) -> int | None:
    """``Content-Length`` as a number; None when absent or not a length."""
    raw = str(environ.get("CONTENT_LENGTH") or "").strip()
    return int(raw) if raw.isdigit() else None


def is_chunked(environ: WSGIEnvironment) -> bool:
    """Whether the body comes in chunks, its length unknown until its end (a server that
    does not read it first passes the header on)."""
    return "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()


class RequestBodyTooLarge(Exception):
    """A read of ``wsgi.input`` went past the address's limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than {limit} bytes.")
        self.limit = limit


class LimitedInput:
    """``wsgi.input`` that gives ``limit`` bytes, and raises :class:`RequestBodyTooLarge` at
    the first byte past them (each read asks the stream for one byte more than is left, so
    the body past the limit is never read)."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.consumed = 0
        self.exceeded = False

    def _room(self, size: int | None) -> int:
        if self.exceeded:
            raise RequestBodyTooLarge(self.limit)
        room = self.limit - self.consumed + 1
        return room if size is None or size < 0 or size > room else size

    def _count(self, data: bytes) -> bytes:
        self.consumed += len(data)
        if self.consumed > self.limit:
            self.exceeded = True
            raise RequestBodyTooLarge(self.limit)
        return data

    def read(self, size: int | None = -1) -> bytes:
        return self._count(self.stream.read(self._room(size)))

    def readline(self, size: int | None = -1) -> bytes:
        return self._count(self.stream.readline(self._room(size)))

    def readlines(self, hint: int = -1) -> list[bytes]:
        lines = []
        total = 0
        while line := self.readline():
            lines.append(line)
            total += len(line)
            if 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line


class _Answer:
    """What the application wrote through ``write()`` then its iterable, closed with it."""

    def __init__(self, written: list[bytes], result: Iterable[bytes]) -> None:
        self.written = written
        self.result = result

    def __iter__(self) -> Iterator[bytes]:
        yield from self.written
        yield from self.result

    def close(self) -> None:
        _close(self.result)


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


class RequestSizeLimits:
    """The WSGI layer around the Django application that refuses a body over its address's
    limit with a 413, before the application reads it (see the module's docstring)."""

    def __init__(self, application: WSGIApplication) -> None:
        self.application = application

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        declared = declared_length(environ)
        if declared is None:
            if is_chunked(environ):
                return self.guarded(environ, start_response, limit_for(environ))
            return self.application(environ, start_response)  # no body (RFC 9112, 6.3)
        if declared <= ORDINARY.request_bytes:  # the usual case: no routing needed
            return self.application(environ, start_response)
        limit = limit_for(environ)
        if declared > limit.request_bytes:
            return self.refuse(environ, start_response, limit)
        return self.application(environ, start_response)

    def guarded(
        self, environ: WSGIEnvironment, start_response: StartResponse, limit: BodyLimit
    ) -> Iterable[bytes]:
        """The application with a body of unknown length, its answer held until it returns:
        a read past the limit turns it into the 413."""
        body = LimitedInput(environ["wsgi.input"], limit.request_bytes)
        environ["wsgi.input"] = body
        held: list[tuple[str, list[tuple[str, str]], ExcInfo | None]] = []
        written: list[bytes] = []
        returned = False

        def hold(
            status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
        ) -> Callable[[bytes], object]:
            if returned:  # an application that answers while its iterable is read
                return start_response(status, headers, exc_info)
            held[:] = [(status, headers, exc_info)]
            return written.append

        try:
            result = self.application(environ, hold)
        except RequestBodyTooLarge:
            return self.refuse(environ, start_response, limit)
        returned = True
        if body.exceeded:  # the application met the error and answered something else
            _close(result)
            return self.refuse(environ, start_response, limit)
        if held:
            start_response(*held[0])
        return _Answer(written, result) if written else result

    @staticmethod
    def refuse(
        environ: WSGIEnvironment, start_response: StartResponse, limit: BodyLimit
    ) -> list[bytes]:
        # A copy: WSGIRequest rewrites PATH_INFO in the mapping it is given.
        response = body_too_large_response(
            WSGIRequest(dict(environ)), limit.file_bytes, splittable=limit.splittable
        )
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [response.content]
