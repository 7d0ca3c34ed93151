"""Impersonation: look-alike characters, near spellings, photos, the allow-list, and what is
not an impersonation (a local news page, a homonym's different handle)."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from beffroi.analysis.impersonation import (
    Account,
    ProtectedIdentity,
    avatar_hash,
    find_impersonators,
    skeleton,
)

MAIRIE = ProtectedIdentity(
    "Mairie de Saint-Aubin-sur-Loire",
    handles=("mairie_saintaubin",),
    display_names=("Mairie de Saint-Aubin",),
)
MAIRE = ProtectedIdentity(
    "Claire Martin", handles=("claire_martin_maire",), display_names=("Claire Martin, maire",)
)


def _handles(accounts: list[Account], allowed: list[tuple[str, str]] | None = None) -> set[str]:
    suspects = find_impersonators(accounts, [MAIRIE, MAIRE], allowed=allowed or [])
    return {suspect.account.handle for suspect in suspects}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Маirie", "mairie"),  # Cyrillic М
        ("C1aire_Martin", "claire.martin"),
        ("clairemartin_officiel", "Claire Martin"),
        ("c.l.a.i.r.e-rnartin", "claire martin"),
        ("ＭＡＩＲＩＥ", "mairie"),  # full-width letters
    ],
)
def test_skeletons_of_look_alikes_are_equal(first: str, second: str) -> None:
    assert skeleton(first) == skeleton(second)


def test_look_alike_and_near_handles_are_found_the_genuine_one_is_not() -> None:
    accounts = [
        Account("mastodon", "1", "mairie_saintaubin", "Mairie de Saint-Aubin"),  # genuine
        Account("mastodon", "2", "mairie_saint4ubin", "Mairie de Saint Aubin"),
        Account("mastodon", "3", "Маirie_saintaubin"),
        Account("mastodon", "4", "mairie_saintaubln2"),
        Account("mastodon", "5", "c1aire_rnartin", "Claire Martin"),
    ]
    assert _handles(accounts, [("mastodon", "1")]) == {
        "mairie_saint4ubin",
        "Маirie_saintaubin",
        "mairie_saintaubln2",
        "c1aire_rnartin",
    }
    # Without the allow-list, the genuine account is the same name: it would be reported.
    assert "mairie_saintaubin" in _handles(accounts)


def test_reasons_say_why_in_words() -> None:
    [suspect] = find_impersonators(
        [Account("x", "9", "Маirie_saintaubin", "Mairie de Saint-Aubin")], [MAIRIE, MAIRE]
    )
    assert suspect.identity == MAIRIE.name and suspect.score >= 0.97
    assert any("look-alike characters" in reason for reason in suspect.reasons)
    assert len(suspect.reasons) == 2  # the handle and the display name


def test_what_is_not_impersonation() -> None:
    accounts = [
        Account("x", "1", "saintaubin_infos", "Saint-Aubin Infos"),  # a local news page
        Account("x", "2", "jean_dupont", "Jean Dupont"),
        Account("x", "3", "martine_c", "Martine Claire"),
        Account("x", "4", "mairie_orleans", "Mairie d'Orléans"),
        Account("x", "5", "cm", "CM"),
    ]
    assert _handles(accounts) == set()


def _portrait(shift: int = 0) -> Image.Image:
    image = Image.new("RGB", (256, 256), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((60 + shift, 40, 196 + shift, 200), fill=(200, 150, 120))
    draw.rectangle((40, 200, 216, 256), fill=(30, 60, 140))
    draw.ellipse((95 + shift, 100, 115 + shift, 120), fill="black")
    draw.ellipse((140 + shift, 100, 160 + shift, 120), fill="black")
    return image


def test_a_copied_photo_is_recognised_after_resizing_and_recompression() -> None:
    official = avatar_hash(_portrait())
    buffer = io.BytesIO()
    _portrait().resize((96, 96)).save(buffer, format="JPEG", quality=60)
    copy = avatar_hash(Image.open(io.BytesIO(buffer.getvalue())))
    other = Image.new("RGB", (256, 256), "black")
    ImageDraw.Draw(other).rectangle((0, 0, 128, 256), fill="yellow")
    identity = ProtectedIdentity("Claire Martin", avatar_hashes=(official,))
    accounts = [
        Account("x", "1", "cm_fan_page", "Fan page", avatar_hash=copy),
        Account("x", "2", "someone", "Someone", avatar_hash=avatar_hash(other)),
    ]
    [suspect] = find_impersonators(accounts, [identity])
    assert suspect.account.platform_id == "1"
    assert "profile photo matches" in suspect.reasons[0]


def test_bad_threshold() -> None:
    with pytest.raises(ValueError, match="threshold"):
        find_impersonators([], [MAIRIE], threshold=0)


def test_the_demo_towns_impostor_is_found_by_the_detector() -> None:
    """On the demo town's accounts, declaring only the mayor and the town's own accounts,
    the detector finds the fake mayor account and nothing else (labels are not used)."""
    from datetime import UTC, datetime

    from beffroi.demo.builder import build_demo_town
    from beffroi.demo.town import MAYOR, TOWN_NAME

    town = build_demo_town(datetime(2026, 11, 1, tzinfo=UTC))
    accounts: dict[tuple[str, str], Account] = {}
    for source in town.sources:
        for item in source.items:
            author = item.author
            accounts[(source.platform, author.platform_id)] = Account(
                source.platform, author.platform_id, author.handle, author.display_name
            )
    official = {
        key
        for key, account in accounts.items()
        if account.display_name in (TOWN_NAME, MAYOR)
        or account.handle.startswith(("mairie", "police_saint_aubin", "saintaubinsurloire"))
        or account.handle.startswith("claire-dumas.")
    }
    mayor = ProtectedIdentity(
        MAYOR,
        handles=tuple(accounts[key].handle for key in official if "dumas" in accounts[key].handle),
        display_names=(MAYOR,),
    )
    town_identity = ProtectedIdentity(
        TOWN_NAME, handles=tuple(accounts[key].handle for key in official if key)
    )
    suspects = find_impersonators(accounts.values(), [mayor, town_identity], allowed=official)
    # The impostor opened accounts on several networks; every one of them is found.
    impostor_accounts = {
        key for key, account in accounts.items() if account.display_name == "Claire Dumas - Maire"
    }
    assert impostor_accounts
    assert {(s.account.platform, s.account.platform_id) for s in suspects} == impostor_accounts
    assert all(s.identity == MAYOR for s in suspects)
