"""``beffroi bench --day``: a national cell's day, through ingestion, judging and the veille,
on PostgreSQL with worker processes, against one process on the embedded default.

The day (:func:`write_day`) is the coordination bench's synthetic corpus (background posts
in four languages, copy-pasta, rewordings and co-link bursts of known accounts) squeezed
into the 24 hours before the last whole hour, with three things injected:

- **a hoax**: rewordings of one false statement by distinct accounts over three hours in
  the afternoon; the statement's fact-check is in the organization's library;
- **a spike**: a hashtag that comes up a few times a day for four weeks (the history the
  detector compares with) bursts in one evening hour;
- **the history**: a tenth of the posts spread over the four weeks before the day, so that
  the spike detector and the narratives have a past.

Every post is a mention of the organization (what a cell's listening brings in: each is
judged by the charter and read by every detector). Then, on the same file:

1. **distributed**: a scratch PostgreSQL database, ``--workers`` worker processes reading
   both queues (``beffroi worker --queues fast,slow``), and a producer that stores the day
   through ingestion, 500 posts at a time, in time order, as fast as it can (a day in
   minutes: the workers fall behind and catch up, which is the point); the clock runs from
   the first post stored until every post is judged and no job is left; then one full
   veille scan (translations too), as the hourly one;
2. **single process**: the embedded default (SQLite) in one process, which stores the same
   posts, judges them all, then scans until the veille has read everything, and the same
   full scan;
3. both installations are asked what they found — verdicts, narratives (their posts),
   campaigns (kind and posts), claim matches, spike alerts — and the findings are compared:
   equal, or what differs.

Peak resident memory of every process (each worker, the producer, the single process) is
read from ``/proc``.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from beffroi.bench_distributed import (
    POLL_SECONDS,
    Configuration,
    DistributedBenchError,
    _cli,
    _Counter,
    _note_peaks,
    _process_peaks_kib,
    _reachable,
    _scratch_database,
    _start_workers,
    _stop,
)

SLUG = "cellule-nationale"
SOURCE = "listening"
DAY = timedelta(days=1)
HISTORY = timedelta(weeks=4)
HISTORY_SHARE = 0.1
CHUNK = 500
#: How long the day may take to go through before the bench gives up.
DAY_TIMEOUT_SECONDS = 4 * 3600.0

HOAX_CLAIM = "Le gouvernement supprime les allocations familiales le mois prochain"
HOAX_URL = "https://factuel.example/allocations-familiales"
HOAX_TEXTS = (
    "Le gouvernement va supprimer les allocations familiales dès le mois prochain",
    "URGENT : les allocations familiales supprimées par le gouvernement le mois prochain !",
    "Les allocations familiales vont être supprimées le mois prochain, c'est officiel",
    "Le gouvernement supprime les allocations familiales à partir du mois prochain",
    "Partagez : fin des allocations familiales le mois prochain, décidé par le gouvernement",
)
SPIKE_TAG = "coupuredeau"
SPIKE_TEXTS = (
    "Encore une coupure d'eau dans le quartier #coupuredeau",
    "Plus d'eau au robinet depuis ce matin #CoupureDEau",
    "#coupuredeau quelqu'un sait quand ça revient ?",
    "Toujours pas d'eau chez nous #coupuredeau",
)


@dataclass(frozen=True)
class Day:
    """The file written and what was put in it."""

    path: Path
    posts: int
    history_posts: int
    hoax_posts: int
    spike_posts: int
    campaign_posts: int
    start: datetime
    end: datetime


def write_day(path: Path, posts: int, end: datetime, seed: int = 0) -> Day:
    """About ``posts`` posts of the day ending at ``end`` (and its history) as a CSV file for
    ingestion, in time order."""
    import numpy as np

    from beffroi.analysis.coordination_bench import synthetic_corpus

    rng = np.random.default_rng(seed + 1)
    hoax = max(30, posts // 500)
    spike = max(40, posts // 250)
    history = int(posts * HISTORY_SHARE)
    corpus = synthetic_corpus(
        posts - hoax - spike, seed=seed, words="bank", translation_campaigns=0
    )
    start = end - DAY
    first = min(post.created_at for post in corpus.posts)
    span = max(post.created_at for post in corpus.posts) - first
    rows: list[tuple[datetime, str, str, str, str, str]] = []
    for post in corpus.posts:
        # The corpus spans about a week: squeezed into the day, its bursts stay bursts.
        moment = start + (post.created_at - first) * (DAY / (span + timedelta(seconds=1)))
        rows.append((moment, post.id, post.account, post.text, " ".join(post.urls), post.language))
    background = [post for post in corpus.posts if post.id not in corpus.truth]
    for number in range(history):
        model = background[int(rng.integers(0, len(background)))]
        moment = start - HISTORY + timedelta(seconds=float(rng.uniform(0, HISTORY.total_seconds())))
        rows.append(
            (
                moment,
                f"h{number}",
                f"hacc{int(rng.integers(0, 5000))}",
                model.text,
                "",
                model.language,
            )
        )
    hoax_start = start + timedelta(hours=14)
    for number in range(hoax):
        moment = hoax_start + timedelta(seconds=float(rng.uniform(0, 3 * 3600)))
        text = f"{HOAX_TEXTS[number % len(HOAX_TEXTS)]} {'!' * (number % 3)}".strip()
        rows.append((moment, f"hoax{number}", f"hoaxacc{number}", text, "", "fr"))
    # The hashtag's ordinary life: a few posts a day over the history and the day.
    quiet = int((HISTORY + DAY) / timedelta(hours=8))
    for number in range(quiet):
        moment = start - HISTORY + timedelta(hours=8 * number + float(rng.uniform(0, 8)))
        text = SPIKE_TEXTS[number % len(SPIKE_TEXTS)]
        rows.append((moment, f"tag{number}", f"tagacc{number % 300}", text, "", "fr"))
    burst = start + timedelta(hours=20)
    for number in range(spike):
        moment = burst + timedelta(seconds=float(rng.uniform(0, 3600)))
        text = SPIKE_TEXTS[number % len(SPIKE_TEXTS)]
        rows.append((moment, f"spike{number}", f"spikeacc{number}", text, "", "fr"))
    rows.sort(key=lambda row: (row[0], row[1]))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "created_at", "author", "text", "urls", "language", "kind"])
        for moment, post_id, account, text, urls, language in rows:
            writer.writerow([post_id, moment.isoformat(), account, text, urls, language, "mention"])
    return Day(
        path,
        len(rows),
        history,
        hoax,
        spike,
        len(corpus.truth),
        start,
        end,
    )


# --- run inside an installation (``python -m beffroi.bench_day …``) -----------------------


def _setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beffroi.web.settings")
    django.setup()


def _chunks(path: Path) -> Iterator[list[Any]]:
    """The file's posts as items to ingest, CHUNK at a time."""
    from beffroi.connectors.base import ItemKind, NormalizedAuthor, NormalizedItem

    with path.open(newline="", encoding="utf-8") as handle:
        chunk: list[Any] = []
        for row in csv.DictReader(handle):
            chunk.append(
                NormalizedItem(
                    platform_id=row["id"],
                    kind=ItemKind.MENTION,
                    author=NormalizedAuthor(platform_id=row["author"], handle=row["author"]),
                    text=row["text"],
                    created_at=datetime.fromisoformat(row["created_at"]),
                    urls=tuple(row["urls"].split()),
                    language=row["language"] or None,
                )
            )
            if len(chunk) == CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def prepare(slug: str) -> None:
    """The organization's library (the hoax's fact-check), its watch, its listening source."""
    _setup()
    from beffroi.organizations.models import Organization
    from beffroi.sources.models import Source
    from beffroi.veille.models import CheckedClaim, Watch

    organization = Organization.objects.get(slug=slug)
    Source.objects.get_or_create(organization=organization, name=SOURCE, platform="file")
    CheckedClaim.objects.get_or_create(
        organization=organization,
        key="hoax",
        defaults={"statement": HOAX_CLAIM, "verdict": "Faux", "url": HOAX_URL},
    )
    Watch.objects.get_or_create(
        organization=organization, name="Allocations", defaults={"query": "allocations"}
    )


def produce(slug: str, path: Path) -> None:
    """Store the day through ingestion, in time order, CHUNK posts at a time."""
    _setup()
    from beffroi.items.ingest import ingest
    from beffroi.sources.models import Source

    source = Source.objects.get(organization__slug=slug, name=SOURCE)
    for chunk in _chunks(path):
        ingest(source, chunk)


def single_process(slug: str, path: Path) -> dict[str, Any]:
    """The embedded default in this one process: store, judge, scan until caught up."""
    import resource

    _setup()
    from beffroi.items.ingest import ingest
    from beffroi.moderation.services import moderate_all_pending
    from beffroi.organizations.models import Organization
    from beffroi.sources.models import Source
    from beffroi.veille.models import Cursor
    from beffroi.veille.scan import scan

    organization = Organization.objects.get(slug=slug)
    source = Source.objects.get(organization=organization, name=SOURCE)
    started = time.perf_counter()
    for chunk in _chunks(path):
        ingest(source, chunk)
    stored = time.perf_counter() - started
    moderate_all_pending(organization)
    judged = time.perf_counter() - started
    # Scans as the runner would make them, until one moves no cursor (the narratives read at
    # most MAX_ITEMS_PER_SCAN items a scan).
    cursors = Cursor.objects.filter(organization=organization).order_by("analyzer")
    while True:
        before = list(cursors.values_list("analyzer", "last_item_id"))
        scan(organization, full=False)
        if list(cursors.values_list("analyzer", "last_item_id")) == before:
            break
    scan(organization, full=True)
    return {
        "stored_seconds": round(stored, 1),
        "judged_seconds": round(judged, 1),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def warm() -> None:
    """Train the default classifier into the cache (a no-op when it is there)."""
    from beffroi.analysis.moderation.classifier import default_classifier

    default_classifier()


def final_scan(slug: str) -> None:
    """The hourly full scan (translations too), once everything else is done."""
    _setup()
    from beffroi.organizations.models import Organization
    from beffroi.veille.scan import scan

    scan(Organization.objects.get(slug=slug), full=True)


def findings(slug: str) -> dict[str, Any]:
    """What the installation found, by the posts' ids (the same in every installation)."""
    _setup()
    from collections import Counter

    from beffroi.items.models import Item
    from beffroi.organizations.models import Organization
    from beffroi.veille.models import Alert, Campaign, ClaimMatch, Narrative

    organization = Organization.objects.get(slug=slug)
    items = Item.objects.filter(organization=organization)
    verdicts = Counter(items.values_list("analysis__verdict", flat=True))
    narratives = sorted(
        sorted(row.members.values_list("item__platform_id", flat=True))
        for row in Narrative.objects.filter(organization=organization, status="active")
    )
    campaigns = sorted(
        [row.kind, sorted(row.items.values_list("platform_id", flat=True))]
        for row in Campaign.objects.filter(organization=organization)
    )
    matches = sorted(
        [platform_id, key]
        for platform_id, key in ClaimMatch.objects.filter(organization=organization).values_list(
            "item__platform_id", "claim__key"
        )
    )
    spikes = sorted(
        [row.title, row.started_at.isoformat()]
        for row in Alert.objects.filter(organization=organization, kind=Alert.Kind.SPIKE)
    )
    return {
        "items": items.count(),
        "left_new": items.filter(state=Item.State.NEW).count(),
        "verdicts": {str(key): value for key, value in sorted(verdicts.items(), key=str)},
        "narratives": narratives,
        "campaigns": campaigns,
        "claim_matches": matches,
        "spike_alerts": spikes,
    }


# --- the bench -------------------------------------------------------------------------


def _python(env: dict[str, str], *arguments: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "beffroi.bench_day", *arguments],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def _finish(process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    process.wait()
    if process.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise DistributedBenchError(f"{what} failed:\n{tail}")


def _findings(env: dict[str, str], workdir: Path, label: str) -> dict[str, Any]:
    out = workdir / f"findings-{label}.json"
    log = workdir / f"findings-{label}.log"
    _finish(_python(env, "findings", SLUG, str(out), log=log), "reading the findings", log)
    found: dict[str, Any] = json.loads(out.read_text())
    return found


def compare(one: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Per kind of finding: how many each found, and whether they are the same."""
    report: dict[str, Any] = {}
    for key in ("verdicts", "narratives", "campaigns", "claim_matches", "spike_alerts"):
        a, b = one[key], other[key]
        size = (lambda found: sum(found.values())) if isinstance(a, dict) else len
        entry: dict[str, Any] = {"distributed": size(a), "single_process": size(b), "equal": a == b}
        if isinstance(a, list) and a != b:
            left = {json.dumps(x) for x in a}
            right = {json.dumps(x) for x in b}
            entry["only_distributed"] = len(left - right)
            entry["only_single_process"] = len(right - left)
        report[key] = entry
    return report


def run_day(
    posts: int,
    workers: int,
    *,
    database_url: str,
    broker_url: str,
    step: Callable[[str], None],
) -> dict[str, Any]:
    """The day of ``posts`` posts through ``workers`` worker processes on PostgreSQL and
    through one process on the embedded default; figures and the comparison."""
    import redis

    if posts < 1000:
        raise DistributedBenchError("a day needs at least 1,000 posts")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise DistributedBenchError(f"--database-url must be a PostgreSQL URL, not {database_url}")
    if not _reachable(database_url):
        raise DistributedBenchError(f"PostgreSQL is not reachable at {database_url}")
    if not broker_url.startswith(("redis://", "rediss://")) or not _reachable(broker_url):
        raise DistributedBenchError(f"Redis is not reachable at {broker_url}")
    workdir = Path(tempfile.mkdtemp(prefix="beffroi-bench-day-"))
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    step(f"writing the day: about {posts} posts")
    day = write_day(workdir / "day.csv", posts, end)
    base = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "BEFFROI_BROKER_URL", "BEFFROI_HOME")
    }
    base["BEFFROI_SECRET_KEY"] = secrets.token_urlsafe(32)
    # One cache of trained models for both installations, trained before the clocks run:
    # what is timed is the day, not the first training of the default classifier.
    base["BEFFROI_CACHE"] = os.environ.get("BEFFROI_CACHE") or str(workdir / "cache")
    log = workdir / "warm.log"
    step("training (or finding in the cache) the default classifier")
    _finish(
        _python({**base, "BEFFROI_HOME": str(workdir / "warm")}, "warm", log=log), "training", log
    )
    figures: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "day": {
            "posts": day.posts,
            "history_posts": day.history_posts,
            "campaign_posts": day.campaign_posts,
            "hoax_posts": day.hoax_posts,
            "spike_posts": day.spike_posts,
        },
    }
    with _scratch_database(database_url) as scratch:
        broker = redis.Redis.from_url(broker_url)
        broker.flushdb()
        env = {
            **base,
            "DATABASE_URL": scratch,
            "BEFFROI_BROKER_URL": broker_url,
            "BEFFROI_HOME": str(workdir / "distributed"),
        }
        _cli(env, "init")
        _cli(env, "org", "create", SLUG, "Cellule nationale")
        log = workdir / "prepare.log"
        _finish(_python(env, "prepare", SLUG, log=log), "preparing the organization", log)
        counter = _Counter(scratch)
        pool = _start_workers(
            env, Configuration(workers, 1), workdir, queues="fast,slow", label="day"
        )
        peaks: dict[int, int] = {}
        producer_peak = 0
        try:
            step(f"distributed: {day.posts} posts through {workers} worker process(es)")
            started = time.perf_counter()
            log = workdir / "producer.log"
            producer = _python(env, "produce", SLUG, str(day.path), log=log)
            stored = 0.0
            deadline = started + DAY_TIMEOUT_SECONDS
            while True:
                _note_peaks(pool, peaks)
                if producer.poll() is None:
                    producer_peak = max(producer_peak, *_process_peaks_kib(producer.pid), 0)
                elif not stored:
                    _finish(producer, "the producer", log)
                    stored = time.perf_counter() - started
                for worker in pool:
                    if worker.poll() is not None:
                        raise DistributedBenchError(
                            f"a worker stopped (exit code {worker.returncode})"
                        )
                if stored and not counter.left(SLUG) and not counter.busy_jobs(SLUG):
                    break
                if time.perf_counter() > deadline:
                    raise DistributedBenchError("the day was not through after four hours")
                time.sleep(max(POLL_SECONDS, 2.0))
            wall = time.perf_counter() - started
            log = workdir / "final-scan.log"
            _finish(_python(env, "final-scan", SLUG, log=log), "the final scan", log)
            figures["distributed"] = {
                "workers": workers,
                "stored_seconds": round(stored, 1),
                "wall_seconds": round(wall, 1),
                "posts_per_second": round(day.posts / wall, 1),
                "peak_rss_kib_per_worker_process": max(peaks.values(), default=0),
                "peak_rss_kib_producer": producer_peak,
                "decided_twice": counter.decided_twice(SLUG),
                "failed_jobs": counter.failed_jobs(SLUG),
            }
        finally:
            _stop(pool)
            broker.flushdb()
        found_distributed = _findings(env, workdir, "distributed")
    step(f"single process (embedded default): the same {day.posts} posts")
    home = workdir / "single"
    env = {**base, "BEFFROI_HOME": str(home)}
    _cli(env, "init")
    _cli(env, "org", "create", SLUG, "Cellule nationale")
    log = workdir / "prepare-single.log"
    _finish(_python(env, "prepare", SLUG, log=log), "preparing the organization", log)
    out = workdir / "single.json"
    log = workdir / "single.log"
    _finish(
        _python(env, "single", SLUG, str(day.path), str(out), log=log), "the single process", log
    )
    figures["single_process"] = json.loads(out.read_text())
    found_single = _findings(env, workdir, "single")
    figures["findings"] = compare(found_distributed, found_single)
    figures["left_new"] = {
        "distributed": found_distributed["left_new"],
        "single_process": found_single["left_new"],
    }
    single_wall = figures["single_process"]["wall_seconds"]
    figures["distributed"]["speedup_over_single_process"] = round(
        single_wall / max(figures["distributed"]["wall_seconds"], 1e-9), 2
    )
    figures["workdir"] = str(workdir)
    return figures


def _main(argv: list[str]) -> None:
    command, *rest = argv
    if command == "prepare" and len(rest) == 1:
        prepare(rest[0])
    elif command == "produce" and len(rest) == 2:
        produce(rest[0], Path(rest[1]))
    elif command == "single" and len(rest) == 3:
        Path(rest[2]).write_text(json.dumps(single_process(rest[0], Path(rest[1]))))
    elif command == "warm" and not rest:
        warm()
    elif command == "final-scan" and len(rest) == 1:
        final_scan(rest[0])
    elif command == "findings" and len(rest) == 2:
        Path(rest[1]).write_text(json.dumps(findings(rest[0])))
    else:
        sys.exit(
            "usage: python -m beffroi.bench_day warm | prepare SLUG | produce SLUG FILE | "
            "single SLUG FILE OUT | final-scan SLUG | findings SLUG OUT"
        )


if __name__ == "__main__":
    _main(sys.argv[1:])
