"""``beffroi bench``: speed and memory of the embedded default, measured, not claimed.

Everything runs in a throw-away data directory so the user's data is never touched:

1. the demo town is loaded and ``beffroi serve`` is started on a free port, a moderator logs
   in and browses the inbox (filters, search, item pages); the server's resident memory
   (current and peak, from ``/proc``) and the page latencies are recorded;
2. ``N`` synthetic items are ingested in batches (items per second);
3. the same number of rows is written to a CSV file and imported (rows per second), then
   imported again (the idempotent path);
4. moderation: the demo town's comments, cycled, go through normalization, rules, the
   classifier and the charter's decision on one core (items per second, detectors alone and
   with the database writes); then items arrive one by one while the embedded runner works,
   and the time from each item's arrival to its decision is measured (p50/p95);
5. one maximal comment (4 MiB of text, an import's row limit) is judged: time and peak memory
   allocated while judging it, and the time and size of its PDF dossier.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from beffroi.connectors.base import ItemKind, NormalizedAuthor, NormalizedItem

WORDS = (
    "mairie travaux rue école cantine marché déchets collecte horaires piscine parking "
    "stationnement permis mariage naissance passeport carte identité police sécurité vélo "
    "bus fermeture ouverture samedi lundi merci bravo honte question réponse"
).split()


def synthetic_items(count: int, seed: int = 7) -> list[NormalizedItem]:
    """Plausible short comments in threads of 20, from 500 authors."""
    import random

    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    items = []
    for n in range(count):
        root = n - n % 20
        author = rng.randrange(500)
        items.append(
            NormalizedItem(
                platform_id=f"bench-{n}",
                kind=ItemKind.POST if n == root else ItemKind.COMMENT,
                text=" ".join(rng.choices(WORDS, k=rng.randint(6, 30))),
                created_at=start + timedelta(seconds=37 * n),
                author=NormalizedAuthor(platform_id=f"a{author}", handle=f"citoyen{author}"),
                thread_id=f"bench-{root}",
                parent_id=None if n == root else f"bench-{root}",
                # Half without a language, so identification is part of the measure.
                language="fr" if n % 2 else None,
                metrics={"likes": rng.randrange(50)},
                raw={"id": n},
            )
        )
    return items


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of a process and its children, in KiB (Linux)."""
    values = {"rss_kib": 0, "peak_rss_kib": 0}
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return values
    text = status.read_text()
    for key, field in (("VmRSS", "rss_kib"), ("VmHWM", "peak_rss_kib")):
        match = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
        if match:
            values[field] = int(match.group(1))
    return values


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


@contextlib.contextmanager
def _served(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "beffroi.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("beffroi serve did not answer within 60 s")
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


def measure_server(env: dict[str, str], pages: int, step: Callable[[str], None]) -> dict[str, Any]:
    """Serve the demo town and browse it as a moderator would; latency and memory."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with _served(env, port) as proc:
        step("logging in and browsing the demo inbox")
        client = httpx.Client(base_url=base, follow_redirects=True, timeout=30)
        client.get("/accounts/login/")
        login = client.post(
            "/accounts/login/",
            data={
                "username": "agent",
                "password": "beffroi-demo",
                "csrfmiddlewaretoken": client.cookies.get("csrftoken", ""),
            },
        )
        # Login lands on the organization's dashboard; the pages measured are the inbox's.
        landed = re.search(r"/o/([^/]+)/", str(login.url))
        if landed is None:
            raise RuntimeError(f"login as the demo moderator failed (landed on {login.url})")
        inbox_url = f"{base}/o/{landed[1]}/inbox/"
        item_links = re.findall(r'href="(/o/[^"]+/items/\d+/)"', login.text)
        queries = ["", "?kind=comment", "?language=fr", "?q=travaux", "?page=2", "?state=new"]
        latencies: list[float] = []
        for n in range(pages):
            path = (
                inbox_url + queries[n % len(queries)]
                if n % 2 == 0 or not item_links
                else item_links[n % len(item_links)]
            )
            started = time.perf_counter()
            response = client.get(path)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
        # The sources page loads every platform's connector (and its SDK): memory is
        # measured after it, the heaviest the served process gets.
        if client.get(f"{base}/o/{landed[1]}/sources/").status_code != 200:
            raise RuntimeError("the sources page did not answer")
        memory = _memory_kib(proc.pid)
    return {"pages": pages, **_percentiles(latencies), **memory}


def measure_ingest(count: int) -> dict[str, Any]:
    from beffroi.items.ingest import ingest
    from beffroi.organizations.models import Organization
    from beffroi.sources.models import Source

    org = Organization.objects.create(slug="bench", name="Bench")
    source = Source.objects.create(organization=org, name="bench", platform="file")
    items = synthetic_items(count)
    started = time.perf_counter()
    for offset in range(0, count, 500):
        ingest(source, items[offset : offset + 500])
    elapsed = time.perf_counter() - started
    return {
        "items": count,
        "seconds": round(elapsed, 2),
        "items_per_second": round(count / elapsed),
    }


def _demo_comments() -> list[str]:
    from beffroi.demo.builder import build_demo_town

    return [
        item.text
        for demo_source in build_demo_town(datetime(2026, 1, 1, tzinfo=UTC)).sources
        for item in demo_source.items
        if item.kind != ItemKind.POST and item.text
    ]


def _comment_items(texts: list[str], prefix: str) -> list[NormalizedItem]:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    author = NormalizedAuthor(platform_id="bench-author", handle="bench")
    return [
        NormalizedItem(
            platform_id=f"{prefix}-{n}",
            kind=ItemKind.COMMENT,
            author=author,
            text=text,
            created_at=moment + timedelta(seconds=n),
            language="",
        )
        for n, text in enumerate(texts)
    ]


def measure_moderation(count: int, arrivals: int) -> dict[str, Any]:
    """Moderation throughput on one core, and arrival-to-decision latency in embedded mode."""
    from threadpoolctl import threadpool_limits

    from beffroi.analysis.moderation.decide import judge
    from beffroi.charter.services import ensure_default_charter
    from beffroi.items.ingest import ingest
    from beffroi.items.models import Item
    from beffroi.jobs.engine import EmbeddedRunner, run_pending
    from beffroi.moderation.detectors import model_detectors, rule_detectors, run
    from beffroi.moderation.policy import charter_policies
    from beffroi.moderation.services import moderate_all_pending
    from beffroi.organizations.models import Organization
    from beffroi.sources.models import Source

    org = Organization.objects.create(slug="bench-moderation", name="Bench moderation")
    ensure_default_charter(org)
    source = Source.objects.create(organization=org, name="bench", platform="file")
    live, _shadow = charter_policies(org)
    assert live is not None
    comments = _demo_comments()
    texts = [comments[n % len(comments)] for n in range(count)]
    figures: dict[str, Any] = {"items": count, "distinct_texts": len(set(texts))}
    with threadpool_limits(limits=1):
        detectors = [*rule_detectors(live.key), *model_detectors(org)]
        run(detectors, texts[:50])  # warm-up: first use loads the models
        started = time.perf_counter()
        for offset in range(0, count, 100):
            batch = texts[offset : offset + 100]
            for signals in run(detectors, batch):
                judge(signals, live)
        elapsed = time.perf_counter() - started
        figures["detectors_items_per_second"] = round(count / elapsed)
        ingest(source, _comment_items(texts, "throughput"))
        started = time.perf_counter()
        moderate_all_pending(org)
        elapsed = time.perf_counter() - started
        figures["with_database_items_per_second"] = round(count / elapsed)
    verdicts = Item.objects.filter(source=source).values_list("analysis__verdict", flat=True)
    figures["verdicts"] = {
        verdict: sum(1 for v in verdicts if v == verdict) for verdict in set(verdicts)
    }
    # Work left by the earlier measurements (their items' judging jobs) is done first, untimed:
    # the latency measured is that of an item arriving at an idle instance.
    from beffroi.veille import narratives
    from beffroi.veille.tasks import hourly_scan

    # The veille's hourly look too (a starting runner asks for it at once), its backlog
    # worked through in one go here rather than over the next scans.
    cap, narratives.MAX_ITEMS_PER_SCAN = narratives.MAX_ITEMS_PER_SCAN, 10**9
    try:
        hourly_scan()
        drained = run_pending()
    finally:
        narratives.MAX_ITEMS_PER_SCAN = cap
    figures["backlog_jobs_run_before_latency"] = drained
    # Two threads, as `beffroi serve` has by default: the second never runs a veille scan.
    runner = EmbeddedRunner(threads=2, poll_seconds=2.0)
    runner.start()
    latencies: list[float] = []
    try:
        for n, item in enumerate(_comment_items(texts[:arrivals], "arrival")):
            started = time.perf_counter()
            ingest(source, [item])
            stored = Item.objects.get(source=source, platform_id=item.platform_id)
            while Item.objects.filter(pk=stored.pk, state=Item.State.NEW).exists():
                if time.perf_counter() - started > 30:
                    raise RuntimeError(f"item {n} was not judged within 30 seconds")
                time.sleep(0.002)
            latencies.append(time.perf_counter() - started)
    finally:
        runner.stop()
    figures["arrival_to_decision"] = {"items": arrivals, **_percentiles(latencies)}
    # This process now holds what a serving process holds once it has judged: Django, the
    # database, the rules, the classifier and the sentence encoder (ru_maxrss is in KiB).
    import resource

    figures["peak_rss_kib_with_detectors_loaded"] = resource.getrusage(
        resource.RUSAGE_SELF
    ).ru_maxrss
    return figures


def measure_maximal_item() -> dict[str, Any]:
    """Judge one comment as long as a row may be (after :func:`measure_moderation`: the
    charter and the models are loaded); peak memory traced while judging it (Python objects
    and numpy arrays, the sentence encoder's included), and its PDF dossier."""
    import tracemalloc

    from beffroi.connectors.fileimport import DEFAULT_MAX_ROW_BYTES
    from beffroi.items.ingest import ingest
    from beffroi.items.models import Item
    from beffroi.moderation.dossier import dossier_pdf
    from beffroi.moderation.services import moderate_items
    from beffroi.sources.models import Source

    source = Source.objects.get(organization__slug="bench-moderation", name="bench")
    sentence = "la mairie ferme la piscine samedi pour des travaux dans la rue "
    text = (sentence * (DEFAULT_MAX_ROW_BYTES // len(sentence) + 1))[:DEFAULT_MAX_ROW_BYTES]
    (comment,) = _comment_items([text], "maximal")
    ingest(source, [comment])
    item = Item.objects.select_related("source", "author").get(
        source=source, platform_id=comment.platform_id
    )
    tracemalloc.start()
    try:
        started = time.perf_counter()
        moderate_items([item])
        judging = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    started = time.perf_counter()
    pdf = dossier_pdf(item)
    rendering = time.perf_counter() - started
    return {
        "characters": len(text),
        "judging_seconds": round(judging, 2),
        "judging_peak_traced_kib": round(peak / 1024),
        "dossier_pdf_seconds": round(rendering, 2),
        "dossier_pdf_bytes": len(pdf),
    }


def measure_import(count: int, workdir: Path) -> dict[str, Any]:
    import csv

    from beffroi.audit.services import Actor
    from beffroi.organizations.models import Organization
    from beffroi.sources.imports import import_file
    from beffroi.sources.models import Source

    path = workdir / "bench.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "created_at", "author", "text", "kind", "parent_id", "likes"])
        for item in synthetic_items(count, seed=11):
            writer.writerow(
                [
                    "csv-" + item.platform_id,
                    item.created_at.isoformat(),
                    item.author.handle,
                    item.text,
                    str(item.kind),
                    "csv-" + item.parent_id if item.parent_id else "",
                    item.metrics["likes"],
                ]
            )
    org = Organization.objects.get(slug="bench")
    source = Source.objects.create(organization=org, name="bench-csv", platform="file")
    actor = Actor(None, "cli", "cli:bench")
    started = time.perf_counter()
    report = import_file(actor, source, path)
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = import_file(actor, source, path)
    second = time.perf_counter() - started
    assert report.created == count and again.created == 0
    return {
        "rows": count,
        "rows_per_second": round(count / first),
        "reimport_rows_per_second": round(count / second),
    }


def cpu_reference_seconds() -> float:
    """Time of a fixed pure-Python loop: lets figures from different machines be compared."""
    started = time.perf_counter()
    total = 0
    for number in range(5_000_000):
        total += number
    return round(time.perf_counter() - started, 3)


def run(
    items: int,
    pages: int,
    step: Callable[[str], None],
    moderation_items: int = 5000,
    arrivals: int = 200,
) -> dict[str, Any]:
    """Run every measurement in a fresh data directory; returns the figures."""
    workdir = Path(tempfile.mkdtemp(prefix="beffroi-bench-"))
    env = {
        **os.environ,
        "BEFFROI_HOME": str(workdir / "home"),
        "BEFFROI_SECRET_KEY": "bench-secret-key",
    }
    env.pop("DATABASE_URL", None)
    env.pop("BEFFROI_BROKER_URL", None)
    step("loading the demo town into a fresh SQLite database")
    import resource

    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "beffroi.cli", "demo"], env=env, check=True, capture_output=True
    )
    demo_load = {
        "seconds": round(time.perf_counter() - started, 2),
        # ru_maxrss of waited-for children is in KiB on Linux.
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }
    server = measure_server(env, pages, step)
    os.environ.update({k: env[k] for k in ("BEFFROI_HOME", "BEFFROI_SECRET_KEY")})
    os.environ.pop("DATABASE_URL", None)
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beffroi.web.settings")
    django.setup()
    step(f"ingesting {items} synthetic items")
    ingest_figures = measure_ingest(items)
    step(f"importing a CSV file of {items} rows, twice")
    import_figures = measure_import(items, workdir)
    step(f"judging {moderation_items} comments, then {arrivals} arriving one by one")
    moderation_figures = measure_moderation(moderation_items, arrivals)
    step("judging one maximal comment (4 MiB of text)")
    moderation_figures["maximal_item"] = measure_maximal_item()
    return {
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "cpu_reference_seconds": cpu_reference_seconds(),
        },
        "database": "sqlite (embedded default)",
        "demo_load": demo_load,
        "serve_with_demo_town": server,
        "ingest": ingest_figures,
        "import_csv": import_figures,
        "moderation": moderation_figures,
    }
