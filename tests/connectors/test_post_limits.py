"""Each network's publishing limits, counted the way the network counts, and the checker."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beffroi.connectors import registry
from beffroi.connectors.post_limits import (
    MESSAGES,
    Counting,
    DraftMedia,
    DraftVariant,
    MediaLimits,
    PostLimits,
    check,
    count_length,
    hashtags,
    limits_table_markdown,
    link_spans,
    mentions,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "publishing-limits.md"
MARKER = "<!-- limits-table -->"
PLATFORMS = (
    "facebook",
    "instagram",
    "x",
    "youtube",
    "bluesky",
    "mastodon",
    "telegram",
    "tiktok",
    "snapchat",
)


def limits_of(platform: str) -> PostLimits:
    limits = registry.connector_class(platform).post_limits
    assert limits is not None
    return limits


def declared_limits() -> list[PostLimits]:
    """The limits every connector declares, in the registry's order."""
    found = []
    for platform in registry.available():
        limits = registry.connector_class(platform).post_limits
        if limits is not None:
            found.append(limits)
    return found


X, BLUESKY, MASTODON, TIKTOK = (limits_of(p) for p in ("x", "bluesky", "mastodon", "tiktok"))
FAMILY = "👨\u200d👩\u200d👧\u200d👦"  # man, woman, girl, boy joined by ZWJ: 7 code points
E_COMBINING = "e\u0301"  # é as e + COMBINING ACUTE ACCENT


# --- the declarations -------------------------------------------------------------------------


def test_every_publishing_platform_declares_its_limits_beside_its_connector() -> None:
    for platform in PLATFORMS:
        limits = limits_of(platform)
        assert limits.platform == platform
        assert limits.sources and all(url.startswith("http") for url in limits.sources)
        assert limits.notes
    assert registry.connector_class("rss").post_limits is None
    assert registry.connector_class("file").post_limits is None


def test_limits_set_in_pairs_and_known_kinds_only() -> None:
    with pytest.raises(ValueError, match="pairs"):
        MediaLimits(kinds=frozenset({"image"}), max_count=1, min_width=10)
    with pytest.raises(ValueError, match="Unknown media kinds"):
        MediaLimits(kinds=frozenset({"audio"}), max_count=1)


# --- counting ---------------------------------------------------------------------------------


def test_an_emoji_family_is_one_grapheme_on_bluesky_and_weighs_two_on_x() -> None:
    assert len(FAMILY) == 7
    assert count_length(FAMILY, BLUESKY) == 1
    assert count_length(FAMILY, MASTODON) == 1
    assert count_length(FAMILY, X) == 2
    assert count_length("🇫🇷 👍🏽 #️⃣", X) == 2 + 1 + 2 + 1 + 2
    assert count_length(FAMILY, TIKTOK) == 11  # UTF-16: four surrogate pairs and three ZWJ


def test_cjk_weighs_two_on_x_and_latin_one() -> None:
    assert count_length("日本語", X) == 6
    assert count_length("Hôtel de ville", X) == 14
    # twitter-text's own example: 13 + 6 + 1 + 2 + 1 + 23.
    assert count_length("english text 日本語 😷 https://example.com", X) == 46


def test_a_combining_accent_makes_one_grapheme() -> None:
    assert count_length(E_COMBINING, BLUESKY) == 1
    assert count_length(E_COMBINING, MASTODON) == 1
    assert count_length(E_COMBINING, X) == 1  # X counts after NFC: é
    assert count_length(E_COMBINING, TIKTOK) == 2  # two UTF-16 units
    assert count_length(E_COMBINING, limits_of("youtube")) == 2  # two code points


@pytest.mark.parametrize(
    "link",
    [
        "https://t.co/a",
        "https://www.ville.fr/agenda/2025/fete-de-la-musique?quartier=centre#programme",
    ],
)
def test_a_link_counts_23_on_x_and_mastodon_whatever_its_length(link: str) -> None:
    assert count_length(f"Voir {link} !", X) == 5 + 23 + 2
    assert count_length(f"Voir {link} !", MASTODON) == 5 + 23 + 2
    assert count_length(f"Voir {link} !", BLUESKY) == 5 + len(link) + 2


def test_x_shortens_addresses_written_without_scheme_mastodon_does_not() -> None:
    assert count_length("Tout sur paris.fr/agenda.", X) == 9 + 23 + 1
    assert count_length("Tout sur paris.fr/agenda.", MASTODON) == 25
    assert count_length("Écrire à contact@ville.fr", X) == 25  # an e-mail address is no link


def test_x_counts_a_windows_line_ending_once() -> None:
    assert count_length("a\r\nb", X) == 3


def test_mastodon_counts_a_remote_mention_without_its_server() -> None:
    assert count_length("@mairie@mastodon.social merci", MASTODON) == len("@mairie merci")
    assert count_length("@mairie@mastodon.social merci", BLUESKY) == 29


def test_link_spans_leave_out_sentence_punctuation_and_unopened_brackets() -> None:
    text = "(voir https://fr.wikipedia.org/wiki/Lyon_(France)), puis https://ville.fr/a."
    assert [text[start:end] for start, end in link_spans(text)] == [
        "https://fr.wikipedia.org/wiki/Lyon_(France)",
        "https://ville.fr/a",
    ]
    assert link_spans("juste https:// et rien") == []
    assert link_spans("https://ville.fr/中文") == [(0, 17)]  # CJK ends the link, as on X


@given(st.text())
def test_graphemes_never_exceed_code_points(text: str) -> None:
    assert count_length(text, BLUESKY) <= len(text)


@pytest.mark.parametrize("platform", ["bluesky", "tiktok", "youtube"])
# No deadline: the first example also finds the connectors (entry points), which on a busy
# machine outlasted Hypothesis's 200 ms and read as a flaky failure.
@settings(deadline=None)
@given(text=st.text(max_size=40), char=st.characters())
def test_adding_a_character_never_lowers_the_count(platform: str, text: str, char: str) -> None:
    limits = limits_of(platform)
    assert count_length(text + char, limits) >= count_length(text, limits)


# Where links are shortened a character can end a link (``a.bb`` is one on X, ``a.bbh`` is
# not), so X's weights are checked on text without links.
NO_LINK = st.characters(blacklist_characters="./:")


@given(text=st.text(NO_LINK, max_size=40), char=NO_LINK)
def test_adding_a_character_never_lowers_x_weight(text: str, char: str) -> None:
    assert count_length(text + char, X) >= count_length(text, X)


# --- hashtags and mentions ----------------------------------------------------------------------


def test_hashtags_are_unicode_and_not_link_fragments() -> None:
    text = f"#été #f{E_COMBINING}te ＃Lyon https://x.fr/#a #2025 a#b &#38; (#Marché)"
    assert hashtags(text) == ["été", f"f{E_COMBINING}te", "Lyon", "Marché"]


def test_mentions_are_handles_not_email_addresses_or_profile_links() -> None:
    text = (
        "@alice @bob.bsky.social @mairie@mastodon.social contact@ville.fr https://m.social/@ville"
    )
    assert mentions(text) == ["alice", "bob.bsky.social", "mairie@mastodon.social"]


# --- the checker, code by code ------------------------------------------------------------------

DEMO = PostLimits(
    platform="demo",
    label="Demo",
    max_length=20,
    counting=Counting.GRAPHEMES,
    max_bytes=40,
    requires_media=False,
    media=MediaLimits(
        kinds=frozenset({"image", "gif", "video"}),
        max_count=2,
        image_types=frozenset({"image/jpeg"}),
        video_types=frozenset({"video/mp4"}),
        max_image_bytes=1000,
        max_gif_bytes=2000,
        max_video_bytes=5000,
        min_width=100,
        min_height=100,
        max_width=1000,
        max_height=1000,
        min_aspect=0.5,
        max_aspect=2,
        min_video_seconds=3,
        max_video_seconds=60,
        alone_kinds=frozenset({"video"}),
    ),
    max_hashtags=1,
    max_mentions=1,
    first_comment=True,
    first_comment_max_length=10,
    link_field=True,
    max_alt_text=10,
    title_max_length=5,
    requires_title=True,
    forbidden_characters="<>",
)
NO_EXTRAS = PostLimits(
    platform="bare",
    label="Bare",
    max_length=20,
    counting=Counting.CHARACTERS,
    requires_media=True,
    media=MediaLimits(
        kinds=frozenset({"video"}), max_count=1, video_types=frozenset({"video/mp4"})
    ),
)
PHOTO = DraftMedia("image", "image/jpeg", 500, 400, 300, alt_text="Le parvis")
CLIP = DraftMedia("video", "video/mp4", 4000, 1280, 720, duration_seconds=30)
GOOD = DraftVariant("Bonjour #Lyon @ville", (PHOTO,), first_comment="Merci", title="Fête")


CASES: list[tuple[str, PostLimits, DraftVariant, list[str]]] = [
    ("fits", DEMO, GOOD, []),
    ("empty", DEMO, replace(GOOD, text="  ", media=()), ["empty"]),
    ("media only is not empty", DEMO, replace(GOOD, text=""), []),
    ("too long", DEMO, replace(GOOD, text="a" * 21), ["too_long"]),
    ("exactly the max", DEMO, replace(GOOD, text="a" * 20), []),
    ("exactly the bytes", DEMO, replace(GOOD, text="é" * 20), []),
    ("too many bytes", DEMO, replace(GOOD, text="😀" * 11), ["too_many_bytes"]),
    ("forbidden in text", DEMO, replace(GOOD, text="a < b"), ["forbidden_characters"]),
    ("forbidden in title", DEMO, replace(GOOD, title="<b>"), ["forbidden_characters"]),
    ("hashtags", DEMO, replace(GOOD, text="#un #deux"), ["too_many_hashtags"]),
    ("mentions", DEMO, replace(GOOD, text="@un @deux"), ["too_many_mentions"]),
    ("title missing", DEMO, replace(GOOD, title=" "), ["title_missing"]),
    ("title too long", DEMO, replace(GOOD, title="Fêtes!"), ["title_too_long"]),
    ("link card", DEMO, replace(GOOD, media=(), link="https://ville.fr"), []),
    ("link with media", DEMO, replace(GOOD, link="https://ville.fr"), ["link_with_media"]),
    (
        "link unsupported",
        NO_EXTRAS,
        DraftVariant("a", (CLIP,), link="https://v.fr"),
        ["link_unsupported"],
    ),
    ("comment too long", DEMO, replace(GOOD, first_comment="a" * 11), ["too_long"]),
    (
        "comment unsupported",
        NO_EXTRAS,
        DraftVariant("a", (CLIP,), first_comment="b"),
        ["first_comment_unsupported"],
    ),
    ("media required", NO_EXTRAS, DraftVariant("a"), ["media_required"]),
    ("too many media", DEMO, replace(GOOD, media=(PHOTO, PHOTO, PHOTO)), ["too_many_media"]),
    ("video alone", DEMO, replace(GOOD, media=(PHOTO, CLIP)), ["media_mix"]),
    ("two photos", DEMO, replace(GOOD, media=(PHOTO, PHOTO)), []),
    ("media kind", NO_EXTRAS, DraftVariant("a", (PHOTO,)), ["media_kind"]),
    (
        "media type",
        DEMO,
        replace(GOOD, media=(replace(PHOTO, mime_type="image/png"),)),
        ["media_type"],
    ),
    (
        "gif type",
        DEMO,
        replace(GOOD, media=(replace(PHOTO, kind="gif", mime_type="image/gif", size_bytes=1500),)),
        [],
    ),
    ("gif not gif", DEMO, replace(GOOD, media=(replace(PHOTO, kind="gif"),)), ["media_type"]),
    (
        "image too big",
        DEMO,
        replace(GOOD, media=(replace(PHOTO, size_bytes=1001),)),
        ["media_too_big"],
    ),
    (
        "gif too big",
        DEMO,
        replace(GOOD, media=(replace(PHOTO, kind="gif", mime_type="image/gif", size_bytes=2001),)),
        ["media_too_big"],
    ),
    (
        "video too big",
        DEMO,
        replace(GOOD, media=(DraftMedia("video", "video/mp4", 5001),)),
        ["media_too_big"],
    ),
    (
        "too small",
        DEMO,
        replace(GOOD, media=(replace(PHOTO, width=99, height=99),)),
        ["media_too_small_dimensions"],
    ),
    (
        "too large",
        DEMO,
        replace(GOOD, media=(replace(PHOTO, width=1001, height=1000),)),
        ["media_too_large_dimensions"],
    ),
    (
        "too wide",
        DEMO,
        replace(GOOD, media=(replace(PHOTO, width=900, height=300),)),
        ["aspect_ratio"],
    ),
    ("unknown size", DEMO, replace(GOOD, media=(replace(PHOTO, width=None, height=None),)), []),
    (
        "video too long",
        DEMO,
        replace(GOOD, media=(DraftMedia("video", "video/mp4", 10, duration_seconds=61),)),
        ["video_too_long"],
    ),
    (
        "video too short",
        DEMO,
        replace(GOOD, media=(DraftMedia("video", "video/mp4", 10, duration_seconds=2.5),)),
        ["video_too_short"],
    ),
    ("video needs no alt", DEMO, replace(GOOD, media=(CLIP,)), []),
    (
        "alt missing",
        DEMO,
        replace(GOOD, media=(replace(PHOTO, alt_text=" \n"),)),
        ["alt_text_missing"],
    ),
    (
        "alt too long",
        DEMO,
        replace(GOOD, media=(replace(PHOTO, alt_text="a" * 11),)),
        ["alt_text_too_long"],
    ),
]


@pytest.mark.parametrize(
    ("limits", "draft", "codes"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_problem_is_raised_where_it_should_and_only_there(
    limits: PostLimits, draft: DraftVariant, codes: list[str]
) -> None:
    assert [problem.code for problem in check(limits, draft)] == codes


def test_every_code_is_exercised_and_has_a_sentence() -> None:
    exercised = {code for *_, codes in CASES for code in codes}
    assert exercised == set(MESSAGES)


def test_a_problem_says_where_what_and_why() -> None:
    draft = replace(GOOD, text="a" * 21, media=(PHOTO, replace(PHOTO, alt_text="")))
    too_long, missing = check(DEMO, draft)
    assert (too_long.field, dict(too_long.params)) == (
        "text",
        {"network": "Demo", "length": 21, "max": 20},
    )
    assert too_long.message == "Too long for Demo: 21 counted, 20 allowed."
    assert (missing.code, missing.field, missing.params["index"], missing.params["position"]) == (
        "alt_text_missing",
        "alt_text",
        1,
        2,
    )
    assert missing.message.startswith("Image 2 has no text alternative")


def test_problems_come_in_a_stable_order() -> None:
    draft = DraftVariant(
        "#a #b " + "x" * 30,
        (replace(PHOTO, mime_type="image/png", alt_text=""), CLIP, PHOTO),
        link="https://ville.fr",
        first_comment="z" * 11,
        title="",
    )
    codes = [problem.code for problem in check(DEMO, draft)]
    assert codes == [
        "too_long",
        "too_many_hashtags",
        "title_missing",
        "link_with_media",
        "too_long",
        "too_many_media",
        "media_type",
        "alt_text_missing",
        "media_mix",
    ]
    assert codes == [problem.code for problem in check(DEMO, draft)]


# --- each network at its boundary ------------------------------------------------------------


def a_fitting_media(limits: PostLimits) -> tuple[DraftMedia, ...]:
    """One media the network takes, for the networks that need one."""
    if not limits.requires_media:
        return ()
    assert limits.media is not None
    if "image" in limits.media.kinds:
        return (
            DraftMedia(
                "image", sorted(limits.media.image_types)[0], 1000, 1080, 1080, alt_text="Le parvis"
            ),
        )
    return (
        DraftMedia(
            "video", sorted(limits.media.video_types)[0], 1000, 1080, 1920, duration_seconds=30
        ),
    )


@pytest.mark.parametrize("platform", PLATFORMS)
def test_exactly_the_maximum_fits_one_more_does_not(platform: str) -> None:
    limits = limits_of(platform)
    media = a_fitting_media(limits)
    title = "Conseil municipal" if limits.requires_title else ""
    most = limits.max_length
    if media and limits.caption_max_length is not None:
        most = limits.caption_max_length
    assert check(limits, DraftVariant("a" * most, media, title=title)) == []
    over = check(limits, DraftVariant("a" * (most + 1), media, title=title))
    assert [p.params["max"] for p in over if p.code == "too_long"] == [most]


def test_telegram_allows_4096_in_a_message_and_1024_in_a_caption() -> None:
    telegram = limits_of("telegram")
    photo_ = DraftMedia("image", "image/jpeg", 1000, 800, 600, alt_text="Le parvis")
    assert check(telegram, DraftVariant("a" * 4096)) == []
    assert [p.code for p in check(telegram, DraftVariant("a" * 1025, (photo_,)))] == ["too_long"]


def test_x_boundary_with_cjk_and_links() -> None:
    assert check(X, DraftVariant("日" * 140)) == []
    assert [p.code for p in check(X, DraftVariant("日" * 141))] == ["too_long"]
    link = "https://www.ville.fr/" + "a" * 200
    assert check(X, DraftVariant("a" * 256 + " " + link)) == []
    assert [p.code for p in check(X, DraftVariant("a" * 257 + " " + link))] == ["too_long"]


def test_bluesky_counts_graphemes_but_also_bytes() -> None:
    assert check(BLUESKY, DraftVariant("é" * 300)) == []
    families = check(BLUESKY, DraftVariant(FAMILY * 300))
    assert [(p.code, p.params["max"]) for p in families] == [("too_many_bytes", 3000)]


def test_youtube_needs_a_title_of_100_characters_without_angle_brackets() -> None:
    youtube = limits_of("youtube")
    video = a_fitting_media(youtube)
    assert check(youtube, DraftVariant("", video, title="é" * 100)) == []
    assert [p.code for p in check(youtube, DraftVariant("", video, title="é" * 101))] == [
        "title_too_long"
    ]
    assert [p.code for p in check(youtube, DraftVariant("", video))] == ["title_missing"]
    assert [p.code for p in check(youtube, DraftVariant("", video, title="1 > 0"))] == [
        "forbidden_characters"
    ]


def test_instagram_hashtags_and_mentions_at_their_limits() -> None:
    instagram = limits_of("instagram")
    image = a_fitting_media(instagram)
    tags = " ".join(f"#tag{n}x" for n in range(instagram.max_hashtags or 0))
    names = " ".join(f"@compte{n}" for n in range(instagram.max_mentions or 0))
    assert check(instagram, DraftVariant(f"{tags} {names}", image)) == []
    codes = [p.code for p in check(instagram, DraftVariant(f"{tags} #un {names} @deux", image))]
    assert codes == ["too_many_hashtags", "too_many_mentions"]


def test_instagram_refuses_a_text_alone_and_a_panoramic_photo() -> None:
    instagram = limits_of("instagram")
    assert [p.code for p in check(instagram, DraftVariant("Bonjour"))] == ["media_required"]
    wide = DraftMedia("image", "image/jpeg", 1000, 1920, 1000, alt_text="Le parvis")
    assert [p.code for p in check(instagram, DraftVariant("", (wide,)))] == ["aspect_ratio"]


def test_x_takes_four_photos_or_one_video() -> None:
    image = DraftMedia("image", "image/png", 1000, 1200, 675, alt_text="Le parvis")
    video = DraftMedia("video", "video/mp4", 1000, 1280, 720, duration_seconds=30)
    assert check(X, DraftVariant("", (image,) * 4)) == []
    assert [p.code for p in check(X, DraftVariant("", (image,) * 5))] == ["too_many_media"]
    assert [p.code for p in check(X, DraftVariant("", (image, video)))] == ["media_mix"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_image_needs_its_text_alternative_on_every_network(platform: str) -> None:
    limits = limits_of(platform)
    image = DraftMedia("image", "image/jpeg", 1000, 1080, 1080)
    codes = [p.code for p in check(limits, DraftVariant("Le marché", (image,)))]
    assert "alt_text_missing" in codes
    described = DraftMedia("image", "image/jpeg", 1000, 1080, 1080, alt_text="Étals du marché")
    assert "alt_text_missing" not in [p.code for p in check(limits, DraftVariant("", (described,)))]


# --- the documentation -----------------------------------------------------------------------


def test_the_documentation_shows_the_limits_the_code_holds() -> None:
    parts = DOC.read_text(encoding="utf-8").split(MARKER)
    assert len(parts) == 3, "docs/publishing-limits.md has one block between two markers"
    generated = limits_table_markdown(declared_limits())
    assert parts[1].strip() == generated.strip()
    assert generated.startswith("| Network |")
    assert generated.count("\n| ") == len(PLATFORMS)  # one row each under the header
