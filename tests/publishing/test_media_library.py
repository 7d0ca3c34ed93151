"""The media library: an upload recognised by its content (never by its name), kept once per
organization, described for people who cannot see it, served with its own type to members of
its organization only, and not deleted while a post uses it."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from beffroi.audit.models import AuditEvent
from beffroi.publishing import media, services
from beffroi.publishing.models import MediaAsset
from beffroi.publishing.services import VariantInput

pytestmark = pytest.mark.django_db

NOT_ALLOWED = "its content does not match an allowed type"


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path, client: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def png(width: int = 40, height: int = 30, color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def gif(frames: int) -> bytes:
    buffer = io.BytesIO()
    images = [Image.new("RGB", (16, 16), color) for color in ("red", "green", "blue")[:frames]]
    images[0].save(buffer, format="GIF", save_all=frames > 1, append_images=images[1:])
    return buffer.getvalue()


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(
    width: int, height: int, *, seconds: int = 12, rotated: bool = False, brand: bytes = b"isom"
) -> bytes:
    """A minimal MP4 (or MOV with brand ``qt  ``): ftyp, the media data, then the movie box
    (as cameras write it: the index after the data)."""
    timescale = 1000
    mvhd = b"\x00\x00\x00\x00" + struct.pack(">IIII", 0, 0, timescale, seconds * timescale)
    mvhd += b"\x00" * 80
    matrix = (
        (0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
        if rotated
        else (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    )
    tkhd = b"\x00\x00\x00\x07" + struct.pack(">IIIII", 0, 0, 1, 0, seconds * timescale)
    tkhd += b"\x00" * 8 + struct.pack(">hhhh", 0, 0, 0, 0) + struct.pack(">9i", *matrix)
    tkhd += struct.pack(">II", width << 16, height << 16)
    moov = box(b"moov", box(b"mvhd", mvhd) + box(b"trak", box(b"tkhd", tkhd)))
    return (
        box(b"ftyp", brand + b"\x00\x00\x02\x00" + brand + b"mp41")
        + box(b"mdat", b"\x00" * 64)
        + moov
    )


def upload(data: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def media_url(desk: Any, suffix: str = "") -> str:
    return f"/o/{desk.org.slug}/publishing/media/{suffix}"


def test_a_png_uploaded_from_the_page_is_kept_with_its_dimensions(
    desk: Any, verified_client: Any
) -> None:
    client = verified_client(desk.author)
    data = png(40, 30)
    response = client.post(
        media_url(desk),
        {"file": upload(data, "affiche.png"), "alt_text": "L'affiche du marché", "name": ""},
    )
    assert response.status_code == 302
    asset = MediaAsset.objects.get(organization=desk.org)
    assert (asset.kind, asset.mime_type, asset.width, asset.height) == (
        "image",
        "image/png",
        40,
        30,
    )
    assert asset.name == "affiche.png" and asset.size_bytes == len(data)
    assert asset.alt_text == "L'affiche du marché" and asset.uploaded_by == desk.author
    # Kept as uploaded, under a name made of its content.
    assert asset.file.name == f"publishing/{desk.org.pk}/{asset.sha256}.png"
    with asset.file.open("rb") as stored:
        assert stored.read() == data
    assert AuditEvent.objects.filter(
        organization=desk.org, action="media.save", object_id=str(asset.pk)
    ).exists()
    page = client.get(media_url(desk)).content.decode()
    assert "affiche.png" in page and "40 × 30 px" in page
    assert f'src="/o/{desk.org.slug}/publishing/media/{asset.pk}/file/"' in page


def test_a_text_file_named_jpg_is_refused_with_the_sentence(
    desk: Any, verified_client: Any
) -> None:
    client = verified_client(desk.author)
    response = client.post(
        media_url(desk),
        {"file": upload(b"hello, I am not a picture\n" * 20, "photo.jpg"), "alt_text": "x"},
    )
    assert response.status_code == 400
    assert NOT_ALLOWED in response.content.decode()
    assert not MediaAsset.objects.exists()
    # A picture in a format outside the list is refused too (BMP).
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="BMP")
    with pytest.raises(media.MediaError, match=NOT_ALLOWED):
        media.save_upload(
            desk.actor(desk.author), desk.org, upload(buffer.getvalue(), "a.png"), "x"
        )


def test_an_image_needs_its_description(desk: Any, verified_client: Any) -> None:
    response = verified_client(desk.author).post(
        media_url(desk), {"file": upload(png(), "a.png"), "alt_text": "  "}
    )
    assert response.status_code == 400
    assert "Describe the image (alt text)" in response.content.decode()
    assert not MediaAsset.objects.exists()


def test_the_same_file_twice_is_one_asset_with_the_new_description(
    desk: Any, other_org: Any
) -> None:
    actor = desk.actor(desk.author)
    data = png(color="blue")
    first = media.save_upload(actor, desk.org, upload(data, "one.png"), "Un carré bleu")
    second = media.save_upload(actor, desk.org, upload(data, "two.png"), "Carré bleu du logo")
    assert first.pk == second.pk and MediaAsset.objects.filter(organization=desk.org).count() == 1
    second.refresh_from_db()
    assert second.alt_text == "Carré bleu du logo" and second.name == "one.png"
    # Uploaded again without a description: the one kept stays.
    third = media.save_upload(actor, desk.org, upload(data, "three.png"), "")
    assert third.pk == first.pk and third.alt_text == "Carré bleu du logo"
    # Another organization keeps its own copy.
    theirs = media.save_upload(actor, other_org, upload(data, "x.png"), "Carré")
    assert theirs.pk != first.pk and theirs.organization == other_org


def test_gifs_and_videos_are_recognised_by_their_content(desk: Any) -> None:
    actor = desk.actor(desk.author)
    animated = media.save_upload(actor, desk.org, upload(gif(3), "a.png"), "Une animation")
    still = media.save_upload(actor, desk.org, upload(gif(1), "b.gif"), "Une image")
    assert (animated.kind, animated.mime_type) == ("gif", "image/gif")
    assert animated.file.name.endswith(".gif")  # the content's type, not the name's
    assert still.kind == "image"

    video = media.save_upload(actor, desk.org, upload(mp4(1920, 1080), "clip.bin"), "")
    assert (video.kind, video.mime_type, video.width, video.height) == (
        "video",
        "video/mp4",
        1920,
        1080,
    )
    assert video.duration_seconds == 12.0 and video.file.name.endswith(".mp4")
    portrait = media.save_upload(
        actor, desk.org, upload(mp4(1920, 1080, rotated=True, brand=b"qt  "), "p.mov"), ""
    )
    assert (portrait.mime_type, portrait.width, portrait.height) == ("video/quicktime", 1080, 1920)
    webm = media.save_upload(
        actor, desk.org, upload(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm" + b"\x00" * 64, "v"), ""
    )
    assert (webm.kind, webm.mime_type, webm.width, webm.duration_seconds) == (
        "video",
        "video/webm",
        None,
        None,
    )
    # Sound only (no track with a picture), or an ftyp without a movie: not a video.
    with pytest.raises(media.MediaError, match=NOT_ALLOWED):
        media.save_upload(actor, desk.org, upload(mp4(0, 0), "song.mp4"), "")
    with pytest.raises(media.MediaError, match=NOT_ALLOWED):
        media.save_upload(actor, desk.org, upload(mp4(10, 10)[:40], "cut.mp4"), "")


def test_sizes_are_limited_by_kind(desk: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(media, "IMAGE_MAX_BYTES", 10)
    with pytest.raises(media.MediaError, match="An image takes"):
        media.save_upload(desk.actor(desk.author), desk.org, upload(png(), "a.png"), "x")
    with pytest.raises(media.MediaError, match="empty"):
        media.save_upload(desk.actor(desk.author), desk.org, upload(b"", "a.png"), "x")
    assert not MediaAsset.objects.exists()


def test_the_file_is_served_with_its_type_to_members_only(
    desk: Any, verified_client: Any, make_user: Any, other_org: Any
) -> None:
    actor = desk.actor(desk.author)
    image = media.save_upload(actor, desk.org, upload(png(), "a.png"), "Un carré")
    video = media.save_upload(actor, desk.org, upload(mp4(640, 360), "v.mp4"), "")
    client = verified_client(make_user("lecteur", org=desk.org, role="viewer"))
    response = client.get(media_url(desk, f"{image.pk}/file/"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content) == png()
    response = client.get(media_url(desk, f"{video.pk}/file/"))
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Disposition"].startswith("attachment")
    stranger = verified_client(make_user("ailleurs", org=other_org, role="admin"))
    assert stranger.get(media_url(desk, f"{image.pk}/file/")).status_code == 404


def test_another_organizations_media_is_not_found(
    desk: Any, other_org: Any, verified_client: Any
) -> None:
    theirs = media.save_upload(
        desk.actor(desk.author), other_org, upload(png(color="green"), "a.png"), "Vert"
    )
    client = verified_client(desk.admin)
    assert client.get(media_url(desk, f"{theirs.pk}/file/")).status_code == 404
    assert client.get(media_url(desk, f"{theirs.pk}/")).status_code == 404
    assert (
        client.post(media_url(desk, f"{theirs.pk}/"), {"name": "x", "alt_text": "y"}).status_code
        == 404
    )
    assert client.post(media_url(desk, f"{theirs.pk}/delete/")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.alt_text == "Vert" and Path(theirs.file.path).exists()


def test_a_viewer_reads_the_library_but_cannot_upload(
    desk: Any, verified_client: Any, make_user: Any
) -> None:
    client = verified_client(make_user("lecteur", org=desk.org, role="viewer"))
    assert client.get(media_url(desk)).status_code == 200
    response = client.post(media_url(desk), {"file": upload(png(), "a.png"), "alt_text": "x"})
    assert response.status_code == 403
    assert not MediaAsset.objects.exists()


def test_a_media_used_by_a_post_is_not_deleted(
    desk: Any, verified_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    actor = desk.actor(desk.author)
    asset = media.save_upload(actor, desk.org, upload(png(), "a.png"), "Un carré")
    post = services.save_post(
        actor, desk.org, [VariantInput(source=desk.page, text="Marché", media=[asset])]
    )
    client = verified_client(desk.author)
    response = client.post(media_url(desk, f"{asset.pk}/delete/"), follow=True)
    assert "1 post uses this media" in response.content.decode()
    assert MediaAsset.objects.filter(pk=asset.pk).exists()
    edit_page = client.get(media_url(desk, f"{asset.pk}/")).content.decode()
    assert post.title in edit_page  # where it is used

    services.save_post(actor, desk.org, [VariantInput(source=desk.page, text="Marché")], post=post)
    path = Path(asset.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(media_url(desk, f"{asset.pk}/delete/"))
    assert response.status_code == 302
    assert not MediaAsset.objects.filter(pk=asset.pk).exists() and not path.exists()
    assert AuditEvent.objects.filter(action="media.delete", object_id=str(asset.pk)).exists()


def test_renaming_and_describing_a_media(desk: Any, verified_client: Any) -> None:
    actor = desk.actor(desk.author)
    asset = media.save_upload(actor, desk.org, upload(png(), "a.png"), "Un carré")
    client = verified_client(desk.author)
    response = client.post(
        media_url(desk, f"{asset.pk}/"), {"name": "Logo", "alt_text": "Le logo de la ville"}
    )
    assert response.status_code == 302
    asset.refresh_from_db()
    assert (asset.name, asset.alt_text) == ("Logo", "Le logo de la ville")
    assert AuditEvent.objects.filter(action="media.save", object_id=str(asset.pk)).count() == 2
    response = client.post(media_url(desk, f"{asset.pk}/"), {"name": "Logo", "alt_text": ""})
    assert "Describe the image" in response.content.decode()


def test_the_description_of_a_media_in_a_post_waiting_does_not_change(
    desk: Any, cabinet_workflow: Any
) -> None:
    """Its approval was given to the description too: changing it would publish words
    nobody approved."""
    from beffroi.publishing.models import Post

    actor = desk.actor(desk.author)
    asset = media.save_upload(actor, desk.org, upload(png(), "a.png"), "Un carré")
    post = services.save_post(
        actor, desk.org, [VariantInput(source=desk.page, text="Marché", media=[asset])]
    )
    assert services.submit(actor, post).state == Post.State.IN_REVIEW
    with pytest.raises(media.MediaError, match="1 post waiting"):
        media.update_media(actor, asset, "a.png", "Autre chose")
    renamed = media.update_media(actor, asset, "Carré", "Un carré")
    assert renamed.name == "Carré" and renamed.alt_text == "Un carré"
