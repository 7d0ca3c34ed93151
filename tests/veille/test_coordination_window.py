"""The coordination detector over a persisted sliding window: items fingerprinted once,
campaigns the same as one look over everything, nothing half-stored, the table bounded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from beffroi.analysis.coordination import Post, detect_coordination
from beffroi.items.models import Item
from beffroi.veille import coordination
from beffroi.veille.models import Campaign, CoordinationPost, Cursor, ProtectedIdentity

pytestmark = pytest.mark.django_db

COPY = "Non au parking sur la place du marché ! Signez la pétition et partagez #SauvonsLaPlace"
REWORDED = (
    "Le maire a dépensé deux millions d'euros pour rénover son propre bureau pendant que "
    "les écoles de la commune tombent en ruine, partagez",
    "Le maire a dépensé deux millions d'euros pour rénover son propre bureau pendant que "
    "les écoles de la ville tombent en ruine, partagez",
    "Le maire a dépensé deux millions d'euros pour refaire son propre bureau pendant que "
    "les écoles de la commune tombent en ruine, partagez",
    "Le maire a dépensé deux millions d'euros pour rénover son bureau pendant que les "
    "écoles de la commune tombent en ruine, partagez vite",
)
ORDINARY = [
    "Le marché de Noël ouvre samedi sur la place de la République avec trente exposants",
    "Travaux rue Victor Hugo : la circulation sera alternée jusqu'au 15 décembre",
    "Bravo aux bénévoles du club de foot pour le tournoi des jeunes de dimanche dernier",
    "La médiathèque prolonge ses horaires le mercredi soir pendant les vacances scolaires",
    "Quelqu'un sait si la piscine municipale est ouverte le lundi de Pâques cette année ?",
    "Concert de la chorale à l'église Saint-Pierre vendredi à vingt heures, entrée libre",
    "Les horaires de la déchetterie changent au premier avril, pensez à vérifier",
    "Superbe coucher de soleil sur le port ce soir, merci la Bretagne",
]
LINK = "https://www.journal-local.example/article/parking?utm_source={}"

Key = tuple[str, frozenset[str], frozenset[str]]


def _stored() -> set[Key]:
    """Stored campaigns as (kind, items' platform ids, accounts' handles)."""
    return {
        (
            campaign.kind,
            frozenset(campaign.items.values_list("platform_id", flat=True)),
            frozenset(campaign.authors.values_list("handle", flat=True)),
        )
        for campaign in Campaign.objects.all()
    }


def _detected_over_everything() -> set[Key]:
    """What the detector finds over every item at once (the old path, one look)."""
    items = {str(i.pk): i for i in Item.objects.select_related("author")}
    posts = [
        Post(key, str(i.author_id), i.text, i.created_at, tuple(i.urls), i.language)
        for key, i in items.items()
    ]
    found = detect_coordination(
        posts, min_accounts=coordination.MIN_ACCOUNTS, window=coordination.COACTION_SECONDS
    )
    return {
        (
            c.kind,
            frozenset(items[p].platform_id for p in c.post_ids),
            frozenset(items[p].author.handle for p in c.post_ids),
        )
        for c in found
    }


def _scan(now: datetime) -> list[Campaign]:
    return coordination.detect_campaigns(
        Item.objects.first().organization,  # type: ignore[union-attr]
        now,
        translations=False,
    )


def _first_part(post: Callable[..., Any], start: datetime) -> None:
    post(COPY, "copy0", start)
    post(COPY, "copy1", start + timedelta(minutes=10))
    for n, text in enumerate(REWORDED[:3]):
        post(text, f"reword{n}", start + timedelta(minutes=20 + 7 * n))
    burst = start + timedelta(hours=1)
    post("Lisez ça, incroyable", "link0", burst, urls=[LINK.format("tw")])
    post(f"À voir {LINK.format('fb')}", "link1", burst + timedelta(seconds=20))
    for n, text in enumerate(ORDINARY[:4]):
        post(text, f"resident{n}", start + timedelta(minutes=5 * n + 3))


def _second_part(post: Callable[..., Any], start: datetime) -> None:
    post(COPY.upper(), "copy2", start + timedelta(hours=2))
    post(f"{COPY} !!", "copy3", start + timedelta(hours=2, minutes=15))
    post(REWORDED[3], "reword3", start + timedelta(hours=2, minutes=30))
    post("Scandale", "link2", start + timedelta(hours=1, seconds=45), urls=[LINK.format("x")])
    for n, text in enumerate(ORDINARY[4:]):
        post(text, f"resident{n + 4}", start + timedelta(hours=2, minutes=5 * n))


def test_scans_over_the_window_store_what_one_look_over_everything_finds(
    post: Callable[..., Any],
) -> None:
    now = timezone.now()
    start = now - timedelta(hours=5)
    _first_part(post, start)
    first = _scan(now)
    assert [c.kind for c in first] == ["reworded"]  # two copies and two links: not yet
    _second_part(post, start)
    grown = _scan(now + timedelta(minutes=5))
    assert {c.kind for c in grown} == {"copy", "reworded", "colink"}
    stored = _stored()
    expected = _detected_over_everything()
    assert stored == expected
    assert {kind for kind, _, _ in stored} == {"copy", "reworded", "colink"}
    copy = next(accounts for kind, _, accounts in stored if kind == "copy")
    assert copy == {"copy0", "copy1", "copy2", "copy3"}
    # One look over everything, from nothing stored (no campaign, no fingerprint, no
    # cursor), stores the same.
    Campaign.objects.all().delete()
    CoordinationPost.objects.all().delete()
    Cursor.objects.all().delete()
    _scan(now + timedelta(minutes=5))
    assert _stored() == stored
    assert CoordinationPost.objects.count() == Item.objects.count()


def test_own_accounts_are_left_out(org: Any, post: Callable[..., Any]) -> None:
    ProtectedIdentity.objects.create(organization=org, name="Mairie", handles=["@Mairie_Ville"])
    now = timezone.now()
    for n, handle in enumerate(["mairie_ville", "copy1", "copy2"]):
        post(COPY, handle, now - timedelta(hours=1, minutes=10 * n))
    assert _scan(now) == []
    post(COPY, "copy3", now - timedelta(minutes=5))
    [campaign] = _scan(now)
    assert set(campaign.authors.values_list("handle", flat=True)) == {"copy1", "copy2", "copy3"}


def _spy_on_reads(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    """Ids of the posts fingerprinted and of the items whose text is read back."""
    fingerprinted: list[str] = []
    texts_read: list[str] = []
    real_fingerprint = coordination.fingerprint
    real_texts = coordination._original_texts

    def fingerprint(posts: Sequence[Post], **options: Any) -> Any:
        fingerprinted.extend(p.id for p in posts)
        return real_fingerprint(posts, **options)

    def original_texts(ids: Sequence[str]) -> list[str]:
        texts_read.extend(ids)
        return real_texts(ids)

    monkeypatch.setattr(coordination, "fingerprint", fingerprint)
    monkeypatch.setattr(coordination, "_original_texts", original_texts)
    return fingerprinted, texts_read


def test_a_scan_fingerprints_and_reads_only_its_new_items(
    post: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    start = now - timedelta(hours=5)
    _first_part(post, start)
    _second_part(post, start)
    _scan(now)
    before = _stored()
    fingerprinted, texts_read = _spy_on_reads(monkeypatch)
    new = {
        post(f"{text} (bis)", f"late{n}", now - timedelta(minutes=n)).pk
        for n, text in enumerate(ORDINARY[:3])
    }
    assert _scan(now + timedelta(minutes=1)) == []
    assert {int(key) for key in fingerprinted} == new
    assert texts_read == []
    assert _stored() == before
    # A fifth copy: only it is fingerprinted; the campaign it joins grows. The texts read
    # back are those the campaign shows (read only if it were new), never the window's.
    fingerprinted.clear()
    fifth = post(COPY, "copy4", now - timedelta(minutes=30))
    [grown] = _scan(now + timedelta(minutes=2))
    assert [int(key) for key in fingerprinted] == [fifth.pk]
    assert grown.kind == "copy" and grown.account_count == 5
    assert {int(key) for key in texts_read} <= set(grown.items.values_list("pk", flat=True))
    assert len(texts_read) <= 5


def test_an_upgraded_installation_fingerprints_the_window_it_lacks(
    org: Any, post: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    start = now - timedelta(hours=5)
    _first_part(post, start)
    # The items were looked at before fingerprints were kept: cursors past them, no row.
    newest = Item.objects.order_by("-pk").first()
    assert newest is not None
    for analyzer in (coordination.ANALYZER, f"{coordination.ANALYZER}-translated"):
        Cursor.objects.create(organization=org, analyzer=analyzer, last_item_id=newest.pk)
    fingerprinted, _ = _spy_on_reads(monkeypatch)
    _second_part(post, start)
    _scan(now)
    window = set(Item.objects.values_list("pk", flat=True))
    assert {int(key) for key in fingerprinted} == window
    assert set(CoordinationPost.objects.values_list("item_id", flat=True)) == window
    # The old items take part: the copy of four accounts and the link burst are whole.
    stored = _stored()
    assert ("copy" in {kind for kind, _, _ in stored}) and stored <= _detected_over_everything()
    copy = next(accounts for kind, _, accounts in stored if kind == "copy")
    assert copy == {"copy0", "copy1", "copy2", "copy3"}
    assert "colink" in {kind for kind, _, _ in stored}


def test_a_scan_that_fails_before_its_cursor_moves_leaves_nothing_half_done(
    org: Any, post: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = timezone.now()
    start = now - timedelta(hours=5)
    _first_part(post, start)
    _scan(now)
    campaigns_before = _stored()
    rows_before = CoordinationPost.objects.count()
    cursor_before = Cursor.objects.get(analyzer=coordination.ANALYZER).last_item_id
    _second_part(post, start)

    def fail(*args: Any) -> int:
        raise RuntimeError("the worker dies here")

    # After the fingerprints and campaigns are written, before the cursor moves.
    monkeypatch.setattr(coordination, "_prune", fail)
    with pytest.raises(RuntimeError):
        _scan(now)
    assert CoordinationPost.objects.count() == rows_before
    assert _stored() == campaigns_before
    assert Cursor.objects.get(analyzer=coordination.ANALYZER).last_item_id == cursor_before
    monkeypatch.undo()
    _scan(now)
    assert _stored() == _detected_over_everything()
    assert {kind for kind, _, _ in _stored()} == {"copy", "reworded", "colink"}
    assert CoordinationPost.objects.count() == Item.objects.count()
    assert Campaign.objects.count() == len(_stored())


def test_pruning_bounds_the_table(post: Callable[..., Any]) -> None:
    now = timezone.now()
    # An import of an old period (ten days ago) is looked at, then kept a day only.
    for n, text in enumerate(ORDINARY[:3]):
        post(text, f"archive{n}", now - timedelta(days=10, minutes=n))
    _scan(now)
    assert CoordinationPost.objects.count() == 3
    # Four days of posts, two every three hours, each followed by a scan.
    moment = now
    for n in range(32):
        moment = now + timedelta(hours=3 * n)
        post(f"{ORDINARY[n % 8]} ({n})", f"resident{n % 5}", moment)
        post(f"{ORDINARY[(n + 3) % 8]} [{n}]", f"other{n % 7}", moment)
        _scan(moment)
    kept = CoordinationPost.objects.values_list("created_at", flat=True)
    horizon = moment - coordination.OVERLAP - coordination.PRUNE_MARGIN
    assert min(kept) >= horizon
    # 30 hours of two posts every three hours, at most.
    assert len(kept) <= 2 * (30 // 3 + 1)
    assert Item.objects.count() == 3 + 64
