"""The demo town: well-formed, labelled, plausible and deterministic.

Plain pytest, no Django: ``pytest tests/test_demo_town.py -q -p no:django``.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from difflib import SequenceMatcher
from urllib.parse import urlsplit

import pytest

from beffroi.connectors.base import ItemKind, NormalizedItem
from beffroi.demo.builder import build_demo_town
from beffroi.demo.town import (
    ACTIONS,
    CAMPAIGN_ID,
    CATEGORIES,
    HOAX_ID,
    IMPERSONATION_ID,
    TOPICS,
    DemoLabel,
    DemoSource,
    DemoTown,
)

NOW = datetime(2025, 6, 12, 9, 37, 12, 345678, tzinfo=UTC)
#: A leap day just before midnight, in another season, to catch calendar edge cases.
OTHER_NOW = datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)
SIX_WEEKS = timedelta(weeks=6)
URL_RE = re.compile(r"https?://[^\s<>\"«»]+")
ARABIC_RE = re.compile(r"[\u0600-\u06ff]")


@pytest.fixture(scope="module", params=[NOW, OTHER_NOW], ids=["june", "leap-day"])
def built(request: pytest.FixtureRequest) -> tuple[datetime, DemoTown]:
    now: datetime = request.param
    return now, build_demo_town(now)


@pytest.fixture(scope="module")
def town(built: tuple[datetime, DemoTown]) -> DemoTown:
    return built[1]


def entries(town: DemoTown) -> Iterator[tuple[DemoSource, NormalizedItem, DemoLabel]]:
    for source in town.sources:
        for item in source.items:
            yield source, item, town.labels[(source.name, item.platform_id)]


def of_category(town: DemoTown, *categories: str) -> list[tuple[DemoSource, NormalizedItem]]:
    return [(s, i) for s, i, label in entries(town) if label.category in categories]


def dump(town: DemoTown) -> str:
    """Everything the town holds, as text, to compare two builds byte for byte."""

    def item(i: NormalizedItem) -> dict[str, object]:
        data = asdict(i)
        data["created_at"] = i.created_at.isoformat()
        data["kind"] = str(i.kind)
        return data

    return json.dumps(
        {
            "town": [town.slug, town.name, town.kind, town.language],
            "sources": [
                [s.name, s.platform, s.kind, s.settings, [item(i) for i in s.items]]
                for s in town.sources
            ],
            "labels": [[list(key), asdict(label)] for key, label in town.labels.items()],
        },
        ensure_ascii=False,
        sort_keys=True,
    )


def fictional_host(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host.endswith((".invalid", ".example"))


# --- the town and its sources ---------------------------------------------------------------


def test_town_identity(town: DemoTown) -> None:
    assert town.slug == "saint-aubin"
    assert "Saint-Aubin-sur-Loire" in town.name
    assert town.kind == "town_hall"
    assert town.language == "fr"
    platforms = {(s.platform, s.kind) for s in town.sources}
    assert {("mastodon", "account"), ("facebook", "account"), ("instagram", "account")} <= platforms
    watches = [s for s in town.sources if s.kind == "watch"]
    assert watches and all(s.platform in ("x", "bluesky") for s in watches)
    assert len({s.name for s in town.sources}) == len(town.sources)


def test_a_municipal_police_account(town: DemoTown) -> None:
    police = [s for s in town.sources if "police" in s.name.lower()]
    assert police and police[0].kind == "account"
    assert any(i.kind == ItemKind.POST for i in police[0].items)


def test_settings_are_strings_on_fictional_hosts(town: DemoTown) -> None:
    for source in town.sources:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in source.settings.items())
        for url in URL_RE.findall(" ".join(source.settings.values())):
            assert fictional_host(url), url


def test_item_count_in_range(town: DemoTown) -> None:
    assert 380 <= sum(len(s.items) for s in town.sources) <= 450


# --- labels ---------------------------------------------------------------------------------


def test_labels_cover_every_item_and_nothing_else(town: DemoTown) -> None:
    keys = {(s.name, i.platform_id) for s in town.sources for i in s.items}
    assert set(town.labels) == keys


def test_labels_are_valid(town: DemoTown) -> None:
    for _, item, label in entries(town):
        assert label.category in CATEGORIES
        assert label.expected_action in ACTIONS
        if label.category in ("question", "request"):
            assert label.topic in TOPICS, item.text
        if label.category in ("insult", "threat", "hate"):
            assert label.target, item.text
        if label.category in ("hoax", "campaign", "impersonation"):
            assert label.group in (HOAX_ID, CAMPAIGN_ID, IMPERSONATION_ID)


def test_raw_carries_the_label(town: DemoTown) -> None:
    for _, item, label in entries(town):
        assert item.raw["beffroi_demo_label"] == label.as_dict() == asdict(label)


def test_expected_actions_make_sense(town: DemoTown) -> None:
    for _, item, label in entries(town):
        if label.category in ("criticism", "praise", "announcement"):
            assert label.expected_action == "keep", item.text
        if label.category in ("question", "request"):
            assert label.expected_action == "answer", item.text
        if label.category in ("insult", "threat", "hate", "spam", "scam"):
            if item.kind == ItemKind.MESSAGE:
                assert label.expected_action == "review"
            else:
                assert label.expected_action == "hide", item.text


def test_every_category_present_with_a_sensible_minimum(town: DemoTown) -> None:
    counts = Counter(label.category for label in town.labels.values())
    assert set(counts) == set(CATEGORIES)
    for category in ("insult", "threat", "hate", "spam", "scam"):
        assert counts[category] >= 10, category
    assert counts["question"] + counts["request"] >= 60
    assert counts["request"] >= 15
    assert counts["praise"] >= 20
    assert counts["criticism"] >= 20
    assert counts["neutral"] >= 20
    assert counts["announcement"] >= 30


def test_hate_targets_several_groups(town: DemoTown) -> None:
    targets = {label.target for label in town.labels.values() if label.category == "hate"}
    assert {"origin", "religion", "sexual_orientation"} <= targets
    assert len(targets) >= 4


def test_threats_and_insults_target_the_mayor_and_the_agents(town: DemoTown) -> None:
    for category in ("threat", "insult"):
        targets = {label.target for label in town.labels.values() if label.category == category}
        assert {"mayor", "agents"} <= targets, category


def test_questions_cover_every_topic(town: DemoTown) -> None:
    topics = Counter(
        label.topic for label in town.labels.values() if label.category in ("question", "request")
    )
    assert set(topics) == set(TOPICS)
    assert topics["civil_status"] >= 10


def test_questions_come_as_comments_messages_and_mentions(town: DemoTown) -> None:
    kinds = {i.kind for _, i in of_category(town, "question", "request")}
    assert {ItemKind.COMMENT, ItemKind.MESSAGE, ItemKind.MENTION} <= kinds


def test_spam_and_scams_carry_links(town: DemoTown) -> None:
    with_links = [i for _, i in of_category(town, "spam", "scam") if i.urls]
    assert len(with_links) >= 15


# --- the scenarios --------------------------------------------------------------------------


def normalized(text: str) -> str:
    text = re.sub(r"^@\S+\s+", "", text)  # Mastodon replies begin with a mention
    return " ".join(re.findall(r"\w+", text.casefold()))


def test_copy_paste_campaign(town: DemoTown) -> None:
    items = [(s, i) for s, i, label in entries(town) if label.group == CAMPAIGN_ID]
    assert len(items) >= 12
    assert all(town.labels[(s.name, i.platform_id)].category == "campaign" for s, i in items)
    authors = {(s.platform, i.author.platform_id) for s, i in items}
    assert len(authors) >= 12
    times = [i.created_at for _, i in items]
    assert max(times) - min(times) <= timedelta(minutes=60)
    texts = [normalized(i.text) for _, i in items]
    reference = Counter(texts).most_common(1)[0][0]
    assert all(SequenceMatcher(None, reference, t).ratio() >= 0.8 for t in texts)
    assert len(set(i.text for _, i in items)) >= 6  # small variations, not one exact copy


def test_viral_hoax_grows_then_fades(town: DemoTown) -> None:
    items = [i for _, i in of_category(town, "hoax")]
    assert len(items) >= 15
    times = sorted(i.created_at for i in items)
    assert times[-1] - times[0] >= timedelta(days=2)
    per_day = Counter(t.date() for t in times)
    days = sorted(per_day)
    peak = max(days, key=lambda d: per_day[d])
    assert days[0] < peak < days[-1]
    assert per_day[peak] > per_day[days[0]] and per_day[peak] > per_day[days[-1]]
    assert len({normalized(i.text) for i in items}) >= 8  # several phrasings
    assert {i.language for i in items} >= {"fr", "en", "ar"}


def test_hoax_posts_are_widely_shared(town: DemoTown) -> None:
    hoax: list[int] = []
    others: list[int] = []
    for _, item, label in entries(town):
        if item.kind == ItemKind.POST:
            (hoax if label.category == "hoax" else others).append(item.metrics["shares"])
    assert hoax and statistics.median(hoax) > 5 * statistics.median(others)
    assert max(hoax) > max(others)


def test_town_denies_the_hoax(town: DemoTown) -> None:
    denials = [
        i
        for _, i, label in entries(town)
        if label.group == HOAX_ID and label.category == "announcement"
    ]
    assert denials
    first_hoax = min(i.created_at for _, i in of_category(town, "hoax"))
    assert all(d.created_at > first_hoax for d in denials)


def test_impersonation_of_the_mayor(town: DemoTown) -> None:
    items = [i for _, i in of_category(town, "impersonation")]
    assert len(items) >= 5
    for item in items:
        assert "claire" in item.author.handle.lower() and "maire" in item.author.handle.lower()
        assert item.author.display_name == "Claire Dumas - Maire"
    assert any("claire_dumas_maire_officiel" == i.author.handle for i in items)
    assert len({i.author.platform_id for i in items}) >= 2  # on several platforms
    solicits = [i for i in items if i.urls or re.search(r"RIB|IBAN|carte d'identité", i.text)]
    assert len(solicits) >= 3
    related = [label for label in town.labels.values() if label.group == IMPERSONATION_ID]
    assert {"impersonation", "question", "announcement"} <= {lab.category for lab in related}


def test_the_real_mayor_is_not_the_impostor(town: DemoTown) -> None:
    mayor = [
        i
        for _, i, label in entries(town)
        if i.author.display_name == "Claire Dumas" and label.category == "announcement"
    ]
    assert mayor
    impostors = {i.author.platform_id for _, i in of_category(town, "impersonation")}
    assert not impostors & {i.author.platform_id for i in mayor}


# --- languages ------------------------------------------------------------------------------


def test_languages_in_plausible_proportions(town: DemoTown) -> None:
    items = [i for s in town.sources for i in s.items]
    counts = Counter(i.language for i in items)
    assert set(counts) == {"fr", "en", "ar"}
    share = {lang: n / len(items) for lang, n in counts.items()}
    assert share["fr"] >= 0.75
    assert 0.06 <= share["en"] <= 0.16
    assert 0.03 <= share["ar"] <= 0.09


def test_arabic_items_are_written_in_arabic(town: DemoTown) -> None:
    for item in (i for s in town.sources for i in s.items):
        if item.language == "ar":
            assert ARABIC_RE.search(item.text), item.text
        elif item.language == "fr":
            assert not ARABIC_RE.search(item.text), item.text


# --- structure of the items -----------------------------------------------------------------


def test_platform_ids_unique_per_source(town: DemoTown) -> None:
    for source in town.sources:
        ids = [i.platform_id for i in source.items]
        assert len(ids) == len(set(ids)), source.name
        assert all(isinstance(pid, str) and pid for pid in ids)


def test_items_are_ordered_oldest_first(town: DemoTown) -> None:
    for source in town.sources:
        times = [i.created_at for i in source.items]
        assert times == sorted(times)


def test_threads_are_consistent(town: DemoTown) -> None:
    for source in town.sources:
        by_id = {i.platform_id: i for i in source.items}
        for item in source.items:
            assert item.thread_id in by_id, item.platform_id
            root = by_id[item.thread_id]
            assert root.parent_id is None and root.thread_id == root.platform_id
            if item.parent_id is None:
                assert item.thread_id == item.platform_id
                assert item.kind in (ItemKind.POST, ItemKind.MENTION, ItemKind.MESSAGE)
                continue
            parent = by_id.get(item.parent_id)
            assert parent is not None, f"{source.name}: missing parent of {item.platform_id}"
            assert parent.created_at < item.created_at
            assert parent.thread_id == item.thread_id
            if item.kind == ItemKind.COMMENT:
                assert parent.kind == ItemKind.POST
            elif item.kind == ItemKind.REPLY:
                assert parent.kind != ItemKind.POST
            elif item.kind == ItemKind.MESSAGE:
                assert parent.kind == ItemKind.MESSAGE
            else:
                pytest.fail(f"a {item.kind} answers another item")


def test_threads_have_comments_and_replies(town: DemoTown) -> None:
    for source in town.sources:
        if source.kind == "account":
            kinds = Counter(i.kind for i in source.items)
            assert kinds[ItemKind.POST] >= 5 and kinds[ItemKind.COMMENT] >= 10, source.name
    kinds = Counter(i.kind for s in town.sources for i in s.items)
    assert kinds[ItemKind.REPLY] >= 20
    assert kinds[ItemKind.MESSAGE] >= 20
    assert kinds[ItemKind.MENTION] >= 10


def test_times_within_six_weeks_before_now(built: tuple[datetime, DemoTown]) -> None:
    now, town = built
    for item in (i for s in town.sources for i in s.items):
        assert item.created_at.tzinfo is not None
        assert item.created_at.utcoffset() == timedelta(0)
        assert now - SIX_WEEKS < item.created_at < now


def test_town_posts_are_by_the_towns_accounts(town: DemoTown) -> None:
    for source in town.sources:
        if source.kind != "account":
            continue
        posts = [i for i in source.items if i.kind == ItemKind.POST]
        assert len({p.author.platform_id for p in posts}) == 1, source.name
        account = posts[0].author
        assert account.handle == source.settings.get("handle", account.handle)
        for post in posts:
            assert town.labels[(source.name, post.platform_id)].category == "announcement"


def test_authors_are_stable(town: DemoTown) -> None:
    for source in town.sources:
        seen: dict[str, tuple[str, str, str]] = {}
        for item in source.items:
            author = item.author
            identity = (author.handle, author.display_name, author.url)
            assert seen.setdefault(author.platform_id, identity) == identity
            assert author.platform_id and author.handle
    regulars = Counter(i.author.platform_id for s in town.sources for i in s.items)
    assert sum(1 for n in regulars.values() if n >= 3) >= 10  # some people write often


def test_urls_are_extracted_and_fictional(town: DemoTown) -> None:
    for item in (i for s in town.sources for i in s.items):
        found = [u.rstrip(".,;:!?)…") for u in URL_RE.findall(item.text)]
        assert list(item.urls) == list(dict.fromkeys(found)), item.text
        assert all(fictional_host(u) for u in item.urls), item.urls
        assert item.url and fictional_host(item.url), item.url
        assert fictional_host(item.author.url) or not item.author.url
        assert all(fictional_host(m.url) for m in item.media)


def test_metrics_are_plausible(town: DemoTown) -> None:
    for source in town.sources:
        children = Counter(i.parent_id for i in source.items if i.parent_id)
        for item in source.items:
            if item.kind == ItemKind.MESSAGE:
                assert item.metrics == {}
                continue
            assert set(item.metrics) == {"likes", "shares", "replies"}
            assert all(isinstance(v, int) and v >= 0 for v in item.metrics.values())
            assert item.metrics["replies"] == children[item.platform_id]


def test_raw_is_json_with_iso_dates(town: DemoTown) -> None:
    for source, item, _ in entries(town):
        text = json.dumps(item.raw, ensure_ascii=False)
        assert json.loads(text) == item.raw
        iso = re.findall(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", text)
        assert item.created_at.strftime("%Y-%m-%dT%H:%M:%S") in iso, source.name


def test_raw_looks_like_the_platform(town: DemoTown) -> None:
    expected = {
        "mastodon": {"id", "content", "created_at", "account", "in_reply_to_id"},
        "facebook": {"id", "message", "created_time", "from"},
        "instagram": {"id", "timestamp"},
        "bluesky": {"uri", "cid", "author", "record"},
    }
    for source, item, _ in entries(town):
        keys = expected[source.platform]
        if source.platform == "instagram" and item.kind == ItemKind.MESSAGE:
            keys = {"id", "message", "created_time", "from"}
        assert keys <= set(item.raw), (source.name, item.kind)


# --- determinism ----------------------------------------------------------------------------


def test_deterministic_for_the_same_now() -> None:
    first, second = build_demo_town(NOW), build_demo_town(NOW)
    assert first == second
    assert dump(first) == dump(second)


def test_naive_now_is_taken_as_utc() -> None:
    assert dump(build_demo_town(NOW.replace(tzinfo=None))) == dump(build_demo_town(NOW))


def test_the_seed_changes_the_town() -> None:
    assert dump(build_demo_town(NOW, seed=7)) != dump(build_demo_town(NOW))


def test_platform_ids_do_not_depend_on_now() -> None:
    """Loading the demo again on another day finds the items it already has."""
    later = build_demo_town(NOW + timedelta(days=3, hours=5))
    ids = defaultdict(set)
    for source in build_demo_town(NOW).sources:
        ids[source.name] = {i.platform_id for i in source.items}
    for source in later.sources:
        assert {i.platform_id for i in source.items} == ids[source.name]
