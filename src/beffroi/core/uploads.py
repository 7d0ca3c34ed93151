"""Uploaded files: refusing one that is too large before it is read (a translated 413 page),
and the temporary copy an import reads, removed whatever happens to the request.

A file larger than ``FILE_UPLOAD_MAX_MEMORY_SIZE`` reaches a view as a temporary file in the
upload folder (``TemporaryUploadedFile``), a smaller one in memory: the views read either by
``chunks()`` or ``read()``, never by what the object is."""

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
from django.template.defaultfilters import filesizeformat
from django.templatetags.static import static
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _

from beffroi.core.busy import API_PREFIX
from beffroi.core.problems import problem_response

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


#: The headers Django's middleware would have added to a page, for the answer given before
#: it runs (:func:`body_too_large_response`): a page with this server's stylesheet only.
STANDALONE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Vary": "Accept-Language, Cookie",
}


def body_too_large_response(
    request: HttpRequest, limit: int, *, splittable: bool = True
) -> HttpResponse:
    """413 for a request body the web server refuses before Django reads it
    (``web/request_limits.py``): a file over ``limit`` bytes, what the address takes.

    No middleware has run, so nothing here needs a session, a user or the database: the page
    stands alone like ``503.html``, in the language of the cookie or ``Accept-Language`` as
    the rest of the site, with the sentences of ``413.html``; a JSON problem under ``/api/``.
    ``splittable``: the file is an import that may be cut into several (not a video).
    """
    language = translation.get_language_from_request(request)
    response: HttpResponse
    with translation.override(language):
        if request.path.startswith(API_PREFIX):
            response = problem_response(
                413,
                "Content Too Large",
                "The request body is larger than this address accepts.",
            )
        else:
            title = _("File too large")
            advice = (
                format_html(
                    "<p>{}</p>",
                    _("Split it into smaller files and import them one after the other."),
                )
                if splittable
                else ""
            )
            html = format_html(
                '<!DOCTYPE html>\n<html lang="{language}">\n<head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                '<title>{title} – Beffroi</title>\n<link rel="stylesheet" href="{css}"></head>\n'
                '<body>\n<main class="error-page">\n<h1>{title}</h1>\n'
                '<div class="message message-error" role="alert">'
                '<strong class="message-label">{error}</strong> {sentence}</div>\n'
                '{advice}<p><a href="{back}">{back_label}</a></p>\n</main>\n</body>\n</html>\n',
                language=language,
                title=title,
                css=static("beffroi/app.css"),
                error=_("Error:"),
                sentence=_(
                    "The file is larger than %(limit)s, the most this page accepts: nothing "
                    "was imported."
                )
                % {"limit": filesizeformat(limit)},
                advice=advice,
                back=request.path,
                back_label=_("Back to the form"),
            )
            response = HttpResponse(html, status=413)
    response["Content-Language"] = language
    for header, value in STANDALONE_HEADERS.items():
        response[header] = value
    return response


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
