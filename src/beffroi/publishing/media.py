"""The media library's writers: an upload read, recognised by its content, kept once per
organization; a media renamed, described or deleted.

The type of a file is what its bytes are, never what its name says: images are opened with
Pillow (JPEG, PNG, GIF, WebP only), videos recognised by their container (an MP4 or MOV
``ftyp`` box, a WebM EBML header). Anything else is refused. The file is kept as it was
uploaded (nothing stripped, nothing re-encoded).

What is read of a video: for MP4 and MOV, the dimensions (of the first track with a picture,
turned when the track is rotated) and the duration, from the ``tkhd`` and ``mvhd`` boxes; a
file of that container without a picture track (sound only) is refused. For WebM they stay
unknown (``None``): reading them means walking the Matroska elements, which this does not do.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, UnidentifiedImageError

from beffroi import config
from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record, snapshot
from beffroi.organizations.models import Organization
from beffroi.publishing.models import MediaAsset, Post
from beffroi.publishing.services import READY, PublishingError

MEGABYTE = config.MEGABYTE
#: The library's limits, set once in the configuration (``BEFFROI_MAX_VIDEO_MB`` for videos):
#: the web server lets a request that large through on the upload address only.
IMAGE_MAX_BYTES = config.MAX_IMAGE_BYTES
VIDEO_MAX_BYTES = config.MAX_VIDEO_BYTES

#: Pillow's format name → the type and file extension the library keeps.
IMAGE_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
#: How far into a WebM file its DocType is looked for (it sits in the first header).
WEBM_HEAD_BYTES = 64
#: A real MP4 has a handful of boxes at each level: more is a hostile or broken file.
MAX_BOXES = 4096

#: Post states whose content may still go out without being submitted again: a description
#: changed under them would publish words nobody approved (approvals are bound to the
#: description too, in ``approval.content_hash``).
AWAITING = (Post.State.IN_REVIEW, *READY, Post.State.PUBLISHING, Post.State.SUSPENDED)

SNAPSHOT_FIELDS = ["name", "kind", "mime_type", "size_bytes", "width", "height", "alt_text"]


class MediaError(PublishingError):
    """A refused upload or change, with the form field it is about."""

    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Detected:
    """What a file's content is."""

    kind: str
    mime_type: str
    extension: str
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None


def _not_allowed() -> MediaError:
    return MediaError(
        _(
            "This file is not an image (JPEG, PNG, GIF, WebP) or a video (MP4, MOV, WebM): "
            "its content does not match an allowed type."
        )
    )


# --- recognising a file ------------------------------------------------------------------------


def _image(file: IO[bytes]) -> Detected | None:
    """The image ``file`` holds, or None when Pillow cannot open it as one of the allowed
    formats (raises when it is one of them but broken)."""
    file.seek(0)
    try:
        with Image.open(file, formats=list(IMAGE_FORMATS)) as image:
            mime_type, extension = IMAGE_FORMATS[str(image.format)]
            width, height = image.size
            animated = bool(getattr(image, "is_animated", False))
            image_format = image.format
    except (UnidentifiedImageError, Image.DecompressionBombError):
        return None
    except (OSError, SyntaxError, ValueError):
        raise _not_allowed() from None
    file.seek(0)
    try:
        # A second opening: verify() checks the data and leaves the image unusable.
        with Image.open(file, formats=[str(image_format)]) as image:
            image.verify()
    except Exception:  # Pillow raises many kinds of errors for a broken file
        raise _not_allowed() from None
    kind = MediaAsset.Kind.GIF if image_format == "GIF" and animated else MediaAsset.Kind.IMAGE
    return Detected(kind, mime_type, extension, width, height)


def _boxes(file: IO[bytes], start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """The ISO media boxes between ``start`` and ``end``: (type, payload start, box end)."""
    offset = start
    for _count in range(MAX_BOXES):
        if offset + 8 > end:
            return
        file.seek(offset)
        header = file.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        payload = offset + 8
        if size == 1:
            large = file.read(8)
            if len(large) < 8:
                return
            size = struct.unpack(">Q", large)[0]
            payload += 8
        elif size == 0:  # the last box, to the end of the file
            size = end - offset
        if size < payload - offset:
            return
        box_end = min(offset + size, end)
        yield kind, payload, box_end
        offset = box_end


def _duration(file: IO[bytes], start: int) -> float | None:
    file.seek(start)
    head = file.read(32)
    if len(head) < 20:
        return None
    if head[0] == 1:
        if len(head) < 32:
            return None
        timescale, duration = struct.unpack(">IQ", head[20:32])
    else:
        timescale, duration = struct.unpack(">II", head[12:20])
        if duration == 0xFFFFFFFF:  # unknown
            return None
    if not timescale or not duration:
        return None
    return round(float(duration) / float(timescale), 3)


def _picture(file: IO[bytes], start: int) -> tuple[int, int] | None:
    """A track's width and height from its ``tkhd``, turned when the track is rotated."""
    file.seek(start)
    version = file.read(1)
    base = 36 if version == b"\x01" else 24
    file.seek(start)
    head = file.read(base + 60)
    if len(head) < base + 60:
        return None
    matrix = struct.unpack(">9i", head[base + 16 : base + 52])
    width, height = (value >> 16 for value in struct.unpack(">II", head[base + 52 : base + 60]))
    if not width or not height:
        return None
    if matrix[0] == 0 and matrix[4] == 0:  # a quarter turn: shown upright, sides swapped
        width, height = height, width
    return width, height


def _mp4(file: IO[bytes], length: int) -> Detected | None:
    """An MP4 or MOV file (its first box is ``ftyp``) with a picture track, or None."""
    file.seek(0)
    head = file.read(12)
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    quicktime = head[8:12] == b"qt  "
    for kind, start, end in _boxes(file, 0, length):
        if kind != b"moov":
            continue
        duration = None
        picture = None
        for child, child_start, child_end in _boxes(file, start, end):
            if child == b"mvhd":
                duration = _duration(file, child_start)
            elif child == b"trak" and picture is None:
                for part, part_start, _part_end in _boxes(file, child_start, child_end):
                    if part == b"tkhd":
                        picture = _picture(file, part_start)
        if picture is None:
            return None
        return Detected(
            MediaAsset.Kind.VIDEO,
            "video/quicktime" if quicktime else "video/mp4",
            "mov" if quicktime else "mp4",
            picture[0],
            picture[1],
            duration,
        )
    return None


def _webm(file: IO[bytes]) -> Detected | None:
    file.seek(0)
    head = file.read(WEBM_HEAD_BYTES)
    if head.startswith(EBML_MAGIC) and b"webm" in head:
        return Detected(MediaAsset.Kind.VIDEO, "video/webm", "webm")
    return None


def detect(file: IO[bytes], length: int) -> Detected:
    """What ``file`` (``length`` bytes) is, from its content; refused when not an allowed
    image or video."""
    found = _image(file) or _mp4(file, length) or _webm(file)
    file.seek(0)
    if found is None:
        raise _not_allowed()
    return found


# --- the library's writers ---------------------------------------------------------------------


def largest_media() -> int:
    """The largest file the library keeps, of either kind."""
    return max(IMAGE_MAX_BYTES, VIDEO_MAX_BYTES)


def _digest(upload: File[Any]) -> str:
    sha = hashlib.sha256()
    for chunk in upload.chunks():
        sha.update(chunk)
    return sha.hexdigest()


def _check_size(size: int, kind: str) -> None:
    if kind == MediaAsset.Kind.VIDEO:
        if size > VIDEO_MAX_BYTES:
            raise MediaError(
                _("A video takes %(limit)s MB at most.") % {"limit": VIDEO_MAX_BYTES // MEGABYTE}
            )
    elif size > IMAGE_MAX_BYTES:
        raise MediaError(
            _("An image takes %(limit)s MB at most.") % {"limit": IMAGE_MAX_BYTES // MEGABYTE}
        )


def _check_description(kind: str, alt_text: str) -> None:
    if kind in (MediaAsset.Kind.IMAGE, MediaAsset.Kind.GIF) and not alt_text:
        raise MediaError(
            _("Describe the image (alt text): people who cannot see it read this description."),
            field="alt_text",
        )


def awaiting_posts(asset: MediaAsset) -> int:
    """How many posts using ``asset`` could still go out without being submitted again."""
    return Post.objects.filter(variants__media=asset, state__in=AWAITING).distinct().count()


def _describe(asset: MediaAsset, alt_text: str) -> None:
    """Change the description, unless posts waiting to go out show the one approved."""
    if alt_text == asset.alt_text:
        return
    waiting = awaiting_posts(asset)
    if waiting:
        raise MediaError(
            ngettext(
                "%(count)s post waiting for approval or for its time shows this description: "
                "its approval was given to it. Remove the media from that post first.",
                "%(count)s posts waiting for approval or for their time show this description: "
                "their approval was given to it. Remove the media from those posts first.",
                waiting,
            )
            % {"count": waiting},
            field="alt_text",
        )
    asset.alt_text = alt_text


def save_upload(
    actor: Actor,
    organization: Organization,
    uploaded_file: File[Any],
    alt_text: str = "",
    name: str = "",
) -> MediaAsset:
    """Keep an uploaded file in the organization's library, recognised by its content.

    The same content uploaded again gives the media already kept (its description updated
    when one is given). The file is never read whole into memory: its type from its first
    bytes and boxes (``seek``), its digest by chunks, and storage moves the temporary file an
    upload larger than ``FILE_UPLOAD_MAX_MEMORY_SIZE`` arrives in (or copies it by chunks)."""
    alt_text = alt_text.strip()
    size = uploaded_file.size or 0
    if not size:
        raise MediaError(_("The file is empty."))
    if size > largest_media():
        raise MediaError(
            _("The file is larger than %(limit)s MB, the most the library takes.")
            % {"limit": largest_media() // MEGABYTE}
        )
    detected = detect(uploaded_file, size)
    _check_size(size, detected.kind)
    digest = _digest(uploaded_file)
    existing = MediaAsset.objects.for_org(organization).filter(sha256=digest).first()
    if existing is not None:
        return _reuse(actor, existing, alt_text)
    _check_description(detected.kind, alt_text)
    uploaded_name = PurePath(uploaded_file.name or "").name
    asset = MediaAsset(
        organization=organization,
        name=(name.strip() or uploaded_name).strip()[:200] or _("Media"),
        kind=detected.kind,
        mime_type=detected.mime_type,
        size_bytes=size,
        width=detected.width,
        height=detected.height,
        duration_seconds=detected.duration_seconds,
        alt_text=alt_text,
        sha256=digest,
        uploaded_by=actor.user,
    )
    # Stored under a name made of the content (``_media_path``) with the real type's extension.
    uploaded_file.seek(0)
    asset.file.save(f"{digest}.{detected.extension}", uploaded_file, save=False)
    try:
        with transaction.atomic():
            asset.save()
            record(
                actor,
                AuditAction.MEDIA_SAVE,
                organization=organization,
                obj=asset,
                after={**snapshot(asset, SNAPSHOT_FIELDS), "sha256": digest},
            )
    except IntegrityError:
        # The same file, uploaded at the same moment by someone else: theirs is kept.
        asset.file.delete(save=False)
        return _reuse(actor, MediaAsset.objects.for_org(organization).get(sha256=digest), alt_text)
    except BaseException:
        asset.file.delete(save=False)
        raise
    return asset


def _reuse(actor: Actor, asset: MediaAsset, alt_text: str) -> MediaAsset:
    with transaction.atomic():
        asset = MediaAsset.objects.select_for_update().get(pk=asset.pk)
        before = snapshot(asset, SNAPSHOT_FIELDS)
        if alt_text:
            _describe(asset, alt_text)
        _check_description(asset.kind, asset.alt_text)
        asset.save(update_fields=["alt_text"])
        record(
            actor,
            AuditAction.MEDIA_SAVE,
            organization=asset.organization,
            obj=asset,
            before=before,
            after={**snapshot(asset, SNAPSHOT_FIELDS), "uploaded_again": True},
        )
    return asset


def update_media(actor: Actor, asset: MediaAsset, name: str, alt_text: str) -> MediaAsset:
    """Rename a media and change its description (alt text)."""
    with transaction.atomic():
        asset = MediaAsset.objects.select_for_update().get(pk=asset.pk)
        before = snapshot(asset, SNAPSHOT_FIELDS)
        asset.name = name.strip()[:200] or asset.name
        _describe(asset, alt_text.strip())
        _check_description(asset.kind, asset.alt_text)
        asset.save(update_fields=["name", "alt_text"])
        record(
            actor,
            AuditAction.MEDIA_SAVE,
            organization=asset.organization,
            obj=asset,
            before=before,
            after=snapshot(asset, SNAPSHOT_FIELDS),
        )
    return asset


def _refuse_if_used(asset: MediaAsset) -> None:
    uses = Post.objects.filter(variants__media=asset).distinct().count()
    if uses:
        raise MediaError(
            ngettext(
                "%(count)s post uses this media: remove it from the post before deleting it.",
                "%(count)s posts use this media: remove it from them before deleting it.",
                uses,
            )
            % {"count": uses}
        )


def delete_media(actor: Actor, asset: MediaAsset) -> None:
    """Delete a media and its file; refused while a post uses it."""
    _refuse_if_used(asset)
    stored = asset.file.name
    storage = asset.file.storage
    try:
        with transaction.atomic():
            record(
                actor,
                AuditAction.MEDIA_DELETE,
                organization=asset.organization,
                obj=asset,
                before={**snapshot(asset, SNAPSHOT_FIELDS), "sha256": asset.sha256},
            )
            asset.delete()
            # The file goes once the row is surely gone (a rollback keeps both).
            transaction.on_commit(lambda: storage.delete(stored) if stored else None)
    except ProtectedError:  # a post took it between the check and the delete
        _refuse_if_used(asset)
        raise


def used_by(asset: MediaAsset) -> list[Post]:
    """The posts whose variants use ``asset``."""
    return list(Post.objects.filter(variants__media=asset).distinct().order_by("-id"))
