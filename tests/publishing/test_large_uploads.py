"""A video larger than the ordinary request limit, uploaded through the library's page to a
real waitress started as ``beffroi serve`` starts it: kept whole, without sitting in memory;
the same body on an import address refused with the 413 page before Django reads it."""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import struct
import threading
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile

from beffroi import config
from beffroi.publishing import media
from beffroi.publishing.models import MediaAsset

pytestmark = pytest.mark.django_db(transaction=True)

#: Three times the ordinary request limit, well under the library's video limit.
VIDEO_BYTES = 30 * config.MEGABYTE
BOUNDARY = "beffroi-test-boundary-7d1f"


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def movie_box(width: int, height: int, seconds: int) -> bytes:
    """``moov`` with its ``mvhd`` (time scale and duration) and one picture track (``tkhd``)."""
    timescale = 1000
    mvhd = b"\x00\x00\x00\x00" + struct.pack(">IIII", 0, 0, timescale, seconds * timescale)
    mvhd += b"\x00" * 80
    tkhd = b"\x00\x00\x00\x07" + struct.pack(">IIIII", 0, 0, 1, 0, seconds * timescale)
    tkhd += b"\x00" * 8 + struct.pack(">hhhh", 0, 0, 0, 0)
    tkhd += struct.pack(">9i", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    tkhd += struct.pack(">II", width << 16, height << 16)
    return box(b"moov", box(b"mvhd", mvhd) + box(b"trak", box(b"tkhd", tkhd)))


def write_mp4(path: Path, size: int) -> str:
    """A valid MP4 of ``size`` bytes written to ``path`` by parts (``ftyp``, a large ``mdat``
    of random bytes, ``moov`` after it as cameras write it); returns its SHA-256."""
    head = box(b"ftyp", b"isom\x00\x00\x02\x00isommp41")
    tail = movie_box(1080, 1920, 30)
    data_bytes = size - len(head) - len(tail) - 8
    sha = hashlib.sha256()
    with path.open("wb") as handle:
        for part in (head, struct.pack(">I", data_bytes + 8) + b"mdat"):
            handle.write(part)
            sha.update(part)
        left = data_bytes
        while left:
            block = os.urandom(min(left, config.MEGABYTE))
            handle.write(block)
            sha.update(block)
            left -= len(block)
        handle.write(tail)
        sha.update(tail)
    return sha.hexdigest()


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    text: str


class Browser:
    """A person's browser on the server: their session cookie, the CSRF cookie it is given."""

    def __init__(self, port: int, session: str, language: str) -> None:
        self.port = port
        self.cookies = {"sessionid": session}
        self.language = language

    def _send(self, method: str, path: str, body: Any = None, **headers: str) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
            connection.request(
                method,
                path,
                body=body,
                headers={"Cookie": cookie, "Accept-Language": self.language, **headers},
            )
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return Answer(response.status, response.headers, text)

    def get(self, path: str) -> Answer:
        return self._send("GET", path)

    def post_file(self, path: str, token: str, file: Path, **fields: str) -> Answer:
        """A multipart form with ``file`` streamed from disk (never whole in memory here)."""
        parts = [("csrfmiddlewaretoken", token), *fields.items()]
        head = "".join(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in parts
        )
        head += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{file.name}"\r\nContent-Type: video/mp4\r\n\r\n'
        )
        tail = f"\r\n--{BOUNDARY}--\r\n".encode()

        def body() -> Iterator[bytes]:
            yield head.encode()
            with file.open("rb") as handle:
                while block := handle.read(256 * 1024):
                    yield block
            yield tail

        length = len(head.encode()) + file.stat().st_size + len(tail)
        return self._send(
            "POST",
            path,
            body(),
            **{
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                "Content-Length": str(length),
            },
        )


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


@pytest.fixture
def server_port(settings: Any, tmp_path: Path) -> Iterator[int]:
    """Waitress on the loopback with ``beffroi serve``'s options and application."""
    from waitress import create_server

    from beffroi.cli import waitress_options
    from beffroi.web.wsgi import application

    settings.MEDIA_ROOT = tmp_path / "media"
    # A folder of its own for the uploads' temporary files, to see what stays there.
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    server: Any = create_server(application, host="127.0.0.1", port=0, **waitress_options(2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield int(server.effective_port)
    server.close()
    thread.join(timeout=10)


@pytest.fixture
def video(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "reel.mp4"
    return path, write_mp4(path, VIDEO_BYTES)


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The files the library's page gave to ``media.save_upload``."""
    given: list[Any] = []
    save_upload = media.save_upload

    def spy(actor: Any, organization: Any, uploaded_file: Any, *args: Any, **kwargs: Any) -> Any:
        given.append(uploaded_file)
        return save_upload(actor, organization, uploaded_file, *args, **kwargs)

    monkeypatch.setattr(media, "save_upload", spy)
    return given


def test_a_30_mb_video_is_uploaded_through_the_page_and_kept_whole(
    desk: Any,
    verified_client: Any,
    server_port: int,
    video: tuple[Path, str],
    received: list[Any],
    tmp_path: Path,
) -> None:
    path, digest = video
    assert VIDEO_BYTES > 2 * config.MAX_REQUEST_BYTES
    session = verified_client(desk.author).cookies["sessionid"].value
    browser = Browser(server_port, session, "en")
    url = f"/o/{desk.org.slug}/publishing/media/"
    page = browser.get(url)
    assert page.status == 200
    # The page says the library's own limits, not the server's ordinary one.
    assert f"videos in MP4, MOV or WebM, {config.MAX_VIDEO_BYTES // config.MEGABYTE} MB" in (
        page.text
    )
    tracemalloc.start()
    try:
        answer = browser.post_file(url, csrf_token(page.text), path, alt_text="", name="Reel")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert answer.status == 302, answer.text[:2000]
    assert answer.headers["Location"] == url
    asset = MediaAsset.objects.get(organization=desk.org)
    assert (asset.kind, asset.mime_type, asset.size_bytes) == ("video", "video/mp4", VIDEO_BYTES)
    assert (asset.width, asset.height, asset.duration_seconds) == (1080, 1920, 30.0)
    assert asset.sha256 == digest
    stored = hashlib.sha256()
    with asset.file.open("rb") as handle:
        while block := handle.read(config.MEGABYTE):
            stored.update(block)
    assert stored.hexdigest() == digest
    # Never whole in memory: the view was given a temporary file, and the whole request
    # (server, Django, the library) allocated a fraction of the file at its peak.
    assert [type(file) for file in received] == [TemporaryUploadedFile]
    assert peak < VIDEO_BYTES // 4, f"peak {peak / config.MEGABYTE:.1f} MB"
    # The temporary file is gone with the request (moved into the library).
    assert not list((tmp_path / "uploads").iterdir())


def test_the_same_body_on_an_import_address_is_refused_before_django(
    desk: Any,
    verified_client: Any,
    server_port: int,
    video: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from beffroi.items.models import Item
    from beffroi.sources.models import Source
    from beffroi.web import wsgi

    source = Source.objects.create(
        organization=desk.org, name="Import", platform="file", kind="import"
    )
    calls: list[str] = []
    django_application = wsgi.django_application
    monkeypatch.setattr(
        wsgi.application,
        "application",
        lambda environ, start: (
            calls.append(environ["PATH_INFO"]) or django_application(environ, start)
        ),
    )
    path, _digest = video
    session = verified_client(desk.admin).cookies["sessionid"].value
    browser = Browser(server_port, session, "fr")
    page = browser.get(f"/o/{desk.org.slug}/sources/{source.pk}/import/")
    assert page.status == 200
    url = f"/o/{desk.org.slug}/sources/{source.pk}/import/"
    answer = browser.post_file(url, csrf_token(page.text), path)
    assert answer.status == 413
    assert answer.headers["Content-Language"] == "fr"
    assert "Fichier trop volumineux" in answer.text and "10,0\xa0Mio" in answer.text
    assert calls == [url]  # the page before; the upload never reached Django
    assert not Item.objects.filter(source=source).exists()


@pytest.mark.django_db
def test_the_page_says_the_librarys_limits_and_refuses_above_them_in_words(
    desk: Any, verified_client: Any, monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path
) -> None:
    """Lowered limits, so that the files stay small: the page reads the library's own."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(media, "IMAGE_MAX_BYTES", 1 * config.MEGABYTE)
    monkeypatch.setattr(media, "VIDEO_MAX_BYTES", 3 * config.MEGABYTE)
    client = verified_client(desk.author)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = f"/o/{desk.org.slug}/publishing/media/"
    assert (
        "Images in JPEG, PNG, GIF or WebP, 1 MB at most; videos in MP4, MOV or WebM, 3 MB at most."
        in client.get(url).content.decode()
    )

    def post_video(size: int) -> Any:
        path = tmp_path / f"clip-{size}.mp4"
        write_mp4(path, size)
        return client.post(url, {"file": SimpleUploadedFile(path.name, path.read_bytes())})

    response = post_video(3 * config.MEGABYTE + 1)
    assert response.status_code == 413
    assert "The file is larger than 3 MB, the most the library takes." in response.content.decode()
    assert not MediaAsset.objects.exists()
    # Over the image limit but a video: kept.
    assert post_video(2 * config.MEGABYTE).status_code == 302
    assert MediaAsset.objects.get().kind == "video"
