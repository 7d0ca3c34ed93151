"""Zeeschuimer captures and 4CAT CSV exports shaped as the tools really write them (issue 13,
item 8): X's t.co wrappers are not shared links, 4CAT's columns and the platform a CSV export
does not name, a post without caption, and what identifies an item."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from beffroi.connectors.base import ConfigurationError, Media, QuotedItem, Relation
from beffroi.connectors.fileimport import (
    check_import_platform,
    import_platforms,
    map_record,
    map_zeeschuimer,
    parse_file,
)

REAL = Path(__file__).parent / "fixtures" / "real"


def zeeschuimer_lines() -> list[dict[str, Any]]:
    path = REAL / "zeeschuimer" / "x_links_and_photo.ndjson"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_zeeschuimer_x_text_is_unescaped_and_a_retweet_has_no_counts_of_its_own() -> None:
    post, original = zeeschuimer_lines()
    post["data"]["legacy"]["full_text"] = "Travaux &amp; déviations : rue A &gt; rue B"
    assert map_zeeschuimer(post).text == "Travaux & déviations : rue A > rue B"
    assert map_zeeschuimer(post).metrics  # a post's own counts are kept
    retweet = json.loads(json.dumps(post))
    retweet["data"]["legacy"]["retweeted_status_result"] = {"result": original["data"]}
    retweet["data"]["legacy"]["retweet_count"] = 42  # X's copy of the original's
    item = map_zeeschuimer(retweet)
    assert item.text.startswith("RT @")
    assert item.metrics == {}


# --- t.co -----------------------------------------------------------------------------------


def test_zeeschuimer_x_shares_the_expanded_links_not_t_co() -> None:
    post, long_post = (map_zeeschuimer(line) for line in zeeschuimer_lines())
    # the text keeps what the reader saw; the shared link is the article, expanded; the
    # second t.co is the post's own photo (a medium, not a link)
    assert "https://t.co/AbCdEf1234" in post.text
    assert post.urls == ("https://www.ville-test.fr/travaux-beffroi-2024",)
    assert [medium.url for medium in post.media] == [
        "https://pbs.twimg.com/media/GeBfFzZXMAAbcde.jpg"
    ]
    # a post longer than 280 characters: its text and its links are in note_tweet
    assert long_post.text.endswith("Le compte rendu : https://t.co/Zx9Yw8Vu7T")
    assert long_post.urls == ("https://www.ville-test.fr/conseil/2024-12-05",)


def test_4cat_x_csv_shares_its_urls_column_not_the_t_co_of_the_body() -> None:
    report = parse_file(REAL / "4cat" / "twitter-import.csv")
    assert report.ok, report.errors
    link_and_photo, two_links, photo_only = (row.item for row in report.items)
    assert link_and_photo.urls == ("https://www.ville-test.fr/travaux-beffroi-2024",)
    # 4CAT joins the links with commas; a comma inside an address stays in it
    assert two_links.urls == (
        "https://www.ville-test.fr/noel/horaires",
        "https://www.ville-test.fr/noel/plan?zone=centre,nord",
    )
    assert photo_only.text == "https://t.co/Ph0t0Only1" and photo_only.urls == ()


def test_4cat_x_csv_reposts_quotes_and_videos_as_4cat_writes_them() -> None:
    report = parse_file(REAL / "4cat" / "twitter-import-retweet-quote-video.csv")
    assert report.ok, report.errors
    retweet, quote, video = (row.item for row in report.items)
    # X escapes &, < and > in the text 4CAT writes as it is.
    assert (
        retweet.text == "RT @MairieTest: Travaux & déviations : rue A > rue B jusqu'au 20 décembre."
    )
    # A retweet's counts are X's copy of the original's: none kept, as by the X connector.
    assert retweet.metrics == {}
    assert retweet.quoted == QuotedItem(
        Relation.REPOST,
        None,
        "Travaux & déviations : rue A > rue B jusqu'au 20 décembre.",
        "MairieTest",
        "",
    )
    assert quote.text == "C'est faux >:( https://t.co/Qu0t3dP0st"
    assert quote.quoted == QuotedItem(
        Relation.QUOTE,
        "1865000000000000009",
        "L&eau du robinet est contaminée !",
        "rumeurs_lyon",
        "https://x.com/rumeurs_lyon/status/1865000000000000009",
    )
    assert quote.urls == ()  # the quoted post's address is the quote, not a shared link
    assert quote.metrics["likes"] == 5
    # 4CAT lists a video's thumbnail among the images: the video is its file.
    assert video.media == (
        Media("image", "https://pbs.twimg.com/media/GeMarche01.jpg"),
        Media(
            "video",
            "https://video.twimg.com/ext_tw_video/1865100000000000099/pu/vid/avc1/1280x720/"
            "Mk7Rt.mp4?tag=12",
        ),
    )


def test_a_t_co_link_is_kept_when_nothing_expands_it() -> None:
    row = {"text": "Voir https://t.co/Unkn0wn12", "created_at": "1733480102", "author": "a"}
    assert map_record(row).urls == ("https://t.co/Unkn0wn12",)


# --- the platform a 4CAT CSV does not name --------------------------------------------------


def test_a_4cat_csv_gets_the_platform_given_and_file_otherwise() -> None:
    path = REAL / "4cat" / "twitter-import.csv"
    assert {row.item.platform for row in parse_file(path).items} == {"file"}
    given = parse_file(path, default_platform=check_import_platform("twitter"))
    assert {row.item.platform for row in given.items} == {"x"}
    first = given.items[0].item
    assert first.url == "https://x.com/MairieTest/status/1864998877766655443"
    assert first.author.display_name == "Mairie de Test"
    assert first.metrics == {"likes": 41, "shares": 12, "replies": 3, "views": 1834}
    assert given.items[2].item.language is None  # zxx: no language, Beffroi detects it


def test_a_platform_column_wins_over_the_platform_given() -> None:
    row = {"text": "a", "created_at": "1733480102", "author": "a", "platform": "mastodon"}
    assert map_record(row, default_platform="x").platform == "mastodon"


def test_the_platform_given_must_be_known() -> None:
    assert check_import_platform(" TikTok.com ") == "tiktok"
    assert {"x", "instagram", "tiktok", "threads", "facebook"} <= set(import_platforms())
    assert "file" not in import_platforms()
    with pytest.raises(ConfigurationError, match="'myspace' is not a platform the import knows"):
        check_import_platform("myspace")


def test_4cat_tiktok_csv_columns_and_a_video_without_caption() -> None:
    report = parse_file(REAL / "4cat" / "tiktok.csv", default_platform="tiktok")
    assert report.ok, report.errors
    captioned, silent = (row.item for row in report.items)
    assert captioned.platform == "tiktok"
    assert captioned.url == "https://www.tiktok.com/@villedetest/video/7445000000000000001"
    assert [(medium.kind, medium.url[:45]) for medium in captioned.media] == [
        ("video", "https://v16-webapp-prime.tiktok.com/video/tos")
    ]
    assert captioned.author.display_name == "Ville de Test"
    assert captioned.metrics == {"likes": 1500, "shares": 42, "replies": 87, "views": 25000}
    # no caption: accepted, as a Zeeschuimer line without caption is
    assert silent.text == ""
    assert silent.url == "https://www.tiktok.com/@villedetest/video/7445000000000000002"


# --- a post without text: the same rule in every format -------------------------------------


@pytest.mark.parametrize(
    ("extra", "accepted"),
    [
        ({"url": "https://www.instagram.com/p/C9abcDEFgh/"}, True),
        ({"media": "https://scontent.cdninstagram.com/1.jpg"}, True),
        ({}, False),
    ],
)
def test_a_post_without_text_is_judged_alike_in_csv_and_ndjson(
    tmp_path: Path, extra: dict[str, str], accepted: bool
) -> None:
    row = {"id": "1", "text": "", "created_at": "1733480102", "author": "ville", **extra}
    csv_path = tmp_path / "rows.csv"
    csv_path.write_text(",".join(row) + "\n" + ",".join(row.values()) + "\n", encoding="utf-8")
    ndjson_path = tmp_path / "rows.ndjson"
    ndjson_path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    zeeschuimer_path = tmp_path / "zeeschuimer.ndjson"
    capture = {
        "source_platform": "tiktok.com",
        "data": {
            "id": "7445000000000000002",
            "desc": "",
            "createTime": 1733477400,
            "author": {"uniqueId": "villedetest"},
        },
    }
    zeeschuimer_path.write_text(json.dumps(capture) + "\n", encoding="utf-8")
    for path in (csv_path, ndjson_path):
        report = parse_file(path)
        assert report.ok is accepted, (path.name, report.errors)
        if not accepted:
            assert report.errors[0].reason == (
                f"{'column' if path.suffix == '.csv' else 'field'} 'text' is empty: every row "
                "needs a text, media or the item's address (url)"
            )
    # a Zeeschuimer capture without caption has its address: accepted too
    assert parse_file(zeeschuimer_path).ok
