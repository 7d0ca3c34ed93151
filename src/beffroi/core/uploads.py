"""Uploaded files: refusing one that is too large before it is read (a translated 413 page),
and the temporary copy an import reads, removed whatever happens to the request."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

#: Room for the form's other fields and the multipart framing around the file.
FORM_OVERHEAD_BYTES = 64 * 1024
#: Anything older than this in the upload folder was left by a process that died.
STALE_UPLOAD_SECONDS = 3600
UPLOAD_PREFIX = "beffroi-upload-"


def upload_too_large(request: HttpRequest, limit: int) -> bool:
    """Whether ``request`` carries a file over ``limit`` bytes: from its declared length,
    before the body is read, then from the size of the files it holds."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit + FORM_OVERHEAD_BYTES:
        return True
    return any(
        upload.size is not None and upload.size > limit
        for _field, uploads in request.FILES.lists()
        for upload in uploads
    )


def too_large_response(request: HttpRequest, limit: int) -> HttpResponse:
    """The translated page that says the file is over ``limit`` bytes, status 413."""
    return render(request, "413.html", {"limit": limit}, status=413)


def upload_folder() -> Path:
    return Path(settings.FILE_UPLOAD_TEMP_DIR or tempfile.gettempdir())


@contextmanager
def upload_copy(upload: UploadedFile[bytes], filename: str) -> Iterator[Path]:
    """``upload`` written to a private folder under the upload folder, as ``filename``; the
    folder is removed when the block ends, by an exception or an interrupted request too."""
    with tempfile.TemporaryDirectory(prefix=UPLOAD_PREFIX, dir=upload_folder()) as folder:
        path = Path(folder) / filename
        with path.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        yield path


def remove_stale_uploads(max_age: float = STALE_UPLOAD_SECONDS) -> int:
    """Remove what processes killed during an upload left in the upload folder (anything
    older than ``max_age`` seconds: a live upload is minutes old at most); returns how many."""
    folder = upload_folder()
    if folder.resolve() == Path(tempfile.gettempdir()).resolve():
        return 0  # never sweep the system's temporary folder: others use it
    deadline = time.time() - max_age
    removed = 0
    for entry in folder.iterdir():
        try:
            if entry.lstat().st_mtime >= deadline:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except FileNotFoundError:  # removed meanwhile by the request that owned it
            continue
        removed += 1
    return removed
