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
   allocated while judging it, and the time and size of its PDF dossier;
6. the answering desk, when asked (``--desk-conversations``): that many conversations of five
   items each are written in bulk, the server is started again and a publisher browses the
   conversations list (default view and breaching view) and conversation pages (p50/p95);
   the response-time clocks of every conversation are computed in the bench process;
7. the publishing calendar, when asked (``--publishing-posts``): that many posts on two
   accounts are written in bulk over the current month, the server is started again and a
   publisher browses the calendar's month (the default) and a week of it (p50/p95);
8. counter-speech suggestions, when asked (``--counter-speech-entries``): a library of that
   many approved entries (French, English and Arabic texts, every target and strategy) is
   written in bulk, its index built (cold: the entries embedded; warm: their embeddings
   from the disk cache; stored: the built index read from the data directory), then the suggestions for hateful comments are asked one by one, as the case page
   does, on one core (p50/p95).
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
def _served(env: dict[str, str], port: int, *options: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "beffroi.cli", "serve", "--port", str(port), *options],
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


def _demo_login(base: str) -> tuple[httpx.Client, httpx.Response]:
    """A client logged in as the demo town's moderator, and the page the login landed on
    (its organization's dashboard, or the list of its organizations when it has several)."""
    client = httpx.Client(base_url=base, follow_redirects=True, timeout=60)
    client.get("/accounts/login/")
    login = client.post(
        "/accounts/login/",
        data={
            "username": "agent",
            "password": "beffroi-demo",
            "csrfmiddlewaretoken": client.cookies.get("csrftoken", ""),
        },
    )
    if "/accounts/" in str(login.url):
        raise RuntimeError(f"login as the demo moderator failed (landed on {login.url})")
    return client, login


def measure_server(env: dict[str, str], pages: int, step: Callable[[str], None]) -> dict[str, Any]:
    """Serve the demo town and browse it as a moderator would; latency and memory."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with _served(env, port) as proc:
        step("logging in and browsing the demo inbox")
        client, login = _demo_login(base)
        # Login lands on the organization's dashboard; the pages measured are the inbox's.
        landed = re.search(r"/o/([^/]+)/", str(login.url))
        if landed is None:
            raise RuntimeError(f"login as the demo moderator landed on {login.url}")
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


#: Items per conversation written for the desk's measurement (its first, then answers).
DESK_ITEMS_PER_CONVERSATION = 5
#: Requests per desk page measured (the list, its breaching view, conversation pages).
DESK_SAMPLES = 30
#: The states of the desk's conversations, and how many in a hundred are in each.
DESK_STATES = {
    "new": 35,
    "open": 15,
    "waiting": 10,
    "answered": 15,
    "resolved": 15,
    "closed": 10,
}


def build_desk(conversations: int, seed: int = 11) -> Any:
    """An organization with ``conversations`` conversations of five items each (a fifth in
    private messages, the rest comments under the town's posts), opened over the last 30
    days in every state, a third given to a team, a tenth to the demo moderator (a publisher
    here); written in bulk, as :func:`beffroi.conversations.services.attach_new_items` would
    leave them. Returns the organization."""
    import random

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from beffroi.conversations import sla
    from beffroi.conversations.models import Conversation, ConversationEvent, Team
    from beffroi.items.models import Author, Item
    from beffroi.items.search import item_search_text
    from beffroi.organizations.models import Membership, Organization
    from beffroi.organizations.roles import Role
    from beffroi.sources.models import DEMO_SETTING, Source

    rng = random.Random(seed)
    now = timezone.now()
    states = rng.choices(list(DESK_STATES), weights=list(DESK_STATES.values()), k=conversations)
    with transaction.atomic():
        org = Organization.objects.create(slug="bench-desk", name="Bench desk")
        agent = get_user_model().objects.get(username="agent")
        Membership.objects.create(user=agent, organization=org, role=Role.PUBLISHER)
        teams = [
            Team.objects.create(organization=org, name=name, slug=slug)
            for slug, name in (
                ("voirie", "Voirie"),
                ("proprete", "Propreté"),
                ("etat-civil", "État civil"),
            )
        ]
        teams[0].members.add(agent)
        source = Source.objects.create(
            organization=org,
            name="Page Facebook",
            platform="facebook",
            settings={"page_id": "town", DEMO_SETTING: True},
        )
        town = Author.objects.create(
            organization=org, platform="facebook", platform_id="town", handle="mairie"
        )
        citizens = Author.objects.bulk_create(
            Author(
                organization=org,
                platform="facebook",
                platform_id=f"c{n}",
                handle=f"citoyen{n}",
                display_name=f"Prénom{n} Nom{n}",
            )
            for n in range(conversations)
        )

        def item(platform_id: str, author: Any, kind: str, at: Any, parent: Any = None) -> Any:
            made = Item(
                organization=org,
                source=source,
                platform="facebook",
                platform_id=platform_id,
                kind=kind,
                author=author,
                parent=parent,
                parent_platform_id=parent.platform_id if parent is not None else "",
                thread_id=parent.platform_id if parent is not None else platform_id,
                text=" ".join(rng.choices(WORDS, k=rng.randint(6, 30))),
                language="fr",
                created_at=at,
                state=Item.State.PROCESSED,
            )
            made.search_text = item_search_text(made)
            return made

        posts = Item.objects.bulk_create(
            item(f"post{n}", town, Item.Kind.POST, now - timedelta(days=31))
            for n in range(max(1, conversations // 200))
        )
        opened = [now - timedelta(seconds=rng.randrange(30 * 86400)) for _ in citizens]
        private = [n % 5 == 0 for n in range(conversations)]
        roots = Item.objects.bulk_create(
            item(
                f"r{n}",
                citizen,
                Item.Kind.MESSAGE if private[n] else Item.Kind.COMMENT,
                opened[n],
                None if private[n] else posts[n % len(posts)],
            )
            for n, citizen in enumerate(citizens)
        )
        # Then four more: the town and the citizen in turn (a new one: the citizen alone).
        follow_ups = []
        for n, root in enumerate(roots):
            at = opened[n]
            for turn in range(1, DESK_ITEMS_PER_CONVERSATION):
                at = min(now, at + timedelta(minutes=rng.randrange(10, 600)))
                by_town = turn % 2 == 1 and states[n] != "new"
                kind = Item.Kind.MESSAGE if private[n] else Item.Kind.REPLY
                follow_ups.append(
                    item(
                        f"r{n}-{turn}",
                        town if by_town else citizens[n],
                        kind,
                        at,
                        None if private[n] else root,
                    )
                )
        follow_ups = Item.objects.bulk_create(follow_ups, batch_size=2000)
        rows = []
        per = DESK_ITEMS_PER_CONVERSATION - 1
        for n, root in enumerate(roots):
            mine = follow_ups[n * per : (n + 1) * per]
            answered = states[n] != "new"
            last_response = mine[2].created_at if answered else None
            rows.append(
                Conversation(
                    organization=org,
                    key=(
                        f"private:{source.pk}:{citizens[n].platform_id}"
                        if private[n]
                        else f"public:{source.pk}:{root.platform_id}"
                    ),
                    kind="private" if private[n] else "public",
                    source=source,
                    platform="facebook",
                    author=citizens[n],
                    root=root,
                    subject=root.text[:200],
                    state=states[n],
                    assignee=agent if n % 10 == 0 else None,
                    team=teams[n % 3] if n % 3 == 0 else None,
                    opened_at=root.created_at,
                    last_citizen_at=mine[-1].created_at if not answered else mine[1].created_at,
                    first_response_at=mine[0].created_at if answered else None,
                    last_response_at=last_response,
                    resolved_at=now if states[n] in ("resolved", "closed") else None,
                    pauses=(
                        [[last_response.isoformat(), None]]
                        if states[n] == "waiting" and last_response
                        else []
                    ),
                    message_count=DESK_ITEMS_PER_CONVERSATION,
                )
            )
        # bulk_create sends no pre_save: the deadline columns are computed here, as a save would.
        targets = sla.targets_of(org)
        for row in rows:
            sla.refresh_due(row, targets)
        made = Conversation.objects.bulk_create(rows, batch_size=2000)
        links = Conversation.items.through
        links.objects.bulk_create(
            (
                links(conversation_id=conversation.pk, item_id=item_id)
                for n, conversation in enumerate(made)
                for item_id in (roots[n].pk, *(i.pk for i in follow_ups[n * per : (n + 1) * per]))
            ),
            batch_size=5000,
        )
        ConversationEvent.objects.bulk_create(
            (ConversationEvent(conversation=conversation, kind="created") for conversation in made),
            batch_size=5000,
        )
    return org


def measure_desk(
    env: dict[str, str], conversations: int, step: Callable[[str], None]
) -> dict[str, Any]:
    """The answering desk with ``conversations`` conversations: page latency over the served
    app, and the time to compute every conversation's response-time clock."""
    import random

    from django.utils import timezone

    from beffroi.analysis.business_time import SlaStatus
    from beffroi.conversations import sla
    from beffroi.conversations.models import Conversation
    from beffroi.items.models import Item

    step(
        f"writing {conversations} conversations of {DESK_ITEMS_PER_CONVERSATION} items for the desk"
    )
    started = time.perf_counter()
    org = build_desk(conversations)
    figures: dict[str, Any] = {
        "conversations": Conversation.objects.filter(organization=org).count(),
        "items": Item.objects.filter(organization=org).count(),
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    everything = list(
        Conversation.objects.filter(organization=org).select_related("organization", "team")
    )
    started = time.perf_counter()
    now = timezone.now()
    clocks = sla.clocks(everything, now)
    figures["clocks"] = {
        "conversations": len(everything),
        "running": len(clocks),
        "breached": sum(1 for clock in clocks.values() if clock.status == SlaStatus.BREACHED),
        "seconds": round(time.perf_counter() - started, 2),
        # What the breaching view filters on: the same conversations as the clocks say.
        "breached_by_column": Conversation.objects.filter(organization=org)
        .filter(sla.breached_filter(now))
        .count(),
    }
    opened = random.Random(3).sample(list(clocks), min(DESK_SAMPLES, len(clocks)))
    slug = org.slug
    pages = {
        "list": [f"/o/{slug}/conversations/"] * DESK_SAMPLES,
        "list_breaching": [f"/o/{slug}/conversations/?view=breaching"] * DESK_SAMPLES,
        "conversation": [f"/o/{slug}/conversations/{pk}/" for pk in opened],
    }
    step("browsing the desk: the list, its breaching view, conversation pages")
    figures.update(_time_pages(env, pages))
    return figures


def _time_pages(env: dict[str, str], pages: dict[str, list[str]]) -> dict[str, Any]:
    """Each named list of pages requested over the served app, as the demo's mayor, without
    background work (bulk-written data is not judged while pages are timed): latency
    percentiles by name, and the server's memory after."""
    figures: dict[str, Any] = {}
    port = _free_port()
    with _served(env, port, "--no-background") as proc:
        client, _landed = _demo_login(f"http://127.0.0.1:{port}")
        for name, paths in pages.items():
            latencies: list[float] = []
            for path in paths:
                started = time.perf_counter()
                response = client.get(path)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or response.url.path != path.split("?")[0]:
                    raise RuntimeError(f"{path} answered {response.status_code} at {response.url}")
            figures[name] = {"pages": len(paths), **_percentiles(latencies)}
        figures["server_memory"] = _memory_kib(proc.pid)
    return figures


#: Requests per calendar page measured (the month, a week of it).
PUBLISHING_SAMPLES = 30


def build_publishing(posts: int, seed: int = 13) -> Any:
    """An organization with ``posts`` posts spread over the current month (local time), in
    the states a month holds, each on one or two demo accounts, two in three with a label;
    the demo moderator is a publisher there. Written in bulk. Returns the organization."""
    import random

    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from beffroi.organizations.models import Membership, Organization
    from beffroi.organizations.roles import Role
    from beffroi.publishing.calendar import local_zone, month_period
    from beffroi.publishing.models import Post, PostLabel, PostVariant
    from beffroi.sources.models import DEMO_SETTING, Source

    rng = random.Random(seed)
    states = ["scheduled", "scheduled", "published", "approved", "in_review", "draft"]
    with transaction.atomic():
        org = Organization.objects.create(slug="bench-publishing", name="Bench publishing")
        agent = get_user_model().objects.get(username="agent")
        Membership.objects.create(user=agent, organization=org, role=Role.PUBLISHER)
        accounts = [
            Source.objects.create(
                organization=org, name=name, platform=platform, settings={DEMO_SETTING: True}
            )
            for name, platform in (("Page Facebook", "facebook"), ("Mastodon", "mastodon"))
        ]
        labels = [
            PostLabel.objects.create(organization=org, name=name)
            for name in ("Voirie", "Culture", "Élections", "Sport", "Jeunesse")
        ]
        start, end = month_period(timezone.localdate(timezone.now(), local_zone(org))).bounds(
            local_zone(org)
        )
        seconds = int((end - start).total_seconds())
        made = Post.objects.bulk_create(
            (
                Post(
                    organization=org,
                    author=agent,
                    title=" ".join(rng.choices(WORDS, k=rng.randint(3, 8))),
                    state=rng.choice(states),
                    scheduled_at=start + timedelta(seconds=rng.randrange(seconds)),
                    campaign=rng.choice(["", "", "Été", "Budget"]),
                    content_hash="bench",
                    approved_hash="bench",
                )
                for _ in range(posts)
            ),
            batch_size=2000,
        )
        PostVariant.objects.bulk_create(
            (
                PostVariant(post=post, source=account, text=post.title)
                for n, post in enumerate(made)
                for account in (accounts if n % 2 else accounts[:1])
            ),
            batch_size=2000,
        )
        links = Post.labels.through
        links.objects.bulk_create(
            (
                links(post_id=post.pk, postlabel_id=labels[n % len(labels)].pk)
                for n, post in enumerate(made)
                if n % 3
            ),
            batch_size=5000,
        )
    return org


def measure_publishing(
    env: dict[str, str], posts: int, step: Callable[[str], None]
) -> dict[str, Any]:
    """The publishing calendar with ``posts`` posts in the month: page latency over the
    served app (the month view, the default, and a week of it)."""
    from beffroi.publishing.models import Post

    step(f"writing {posts} posts over the current month for the publishing calendar")
    started = time.perf_counter()
    org = build_publishing(posts)
    figures: dict[str, Any] = {
        "posts": Post.objects.filter(organization=org).count(),
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    calendar = f"/o/{org.slug}/publishing/calendar/"
    pages = {
        "calendar_month": [calendar] * PUBLISHING_SAMPLES,
        "calendar_week": [f"{calendar}?view=week"] * PUBLISHING_SAMPLES,
    }
    step("browsing the publishing calendar: the month, a week")
    figures.update(_time_pages(env, pages))
    return figures


#: Comments the counter-speech suggestions are asked for.
SUGGESTION_SAMPLES = 60
#: Sentences the bench library's entries are made of (written by the project).
_COUNTER_SPEECH_PARTS = {
    "fr": (
        "Les personnes visées sont nos voisins et nos collègues",
        "les chiffres officiels disent le contraire",
        "la loi punit l'incitation à la haine",
        "chacun a droit au respect dans notre ville",
        "ce message généralise à partir d'un cas isolé",
        "demandez-vous qui gagne à diviser les habitants",
        "les services municipaux sont là pour tout le monde",
        "l'eau du robinet est contrôlée chaque semaine",
    ),
    "en": (
        "The people targeted are our neighbours and colleagues",
        "official figures say the opposite",
        "the law punishes incitement to hatred",
        "everyone deserves respect in our town",
        "this message generalises from a single case",
        "ask who gains from dividing residents",
    ),
    "ar": (
        "الأشخاص المستهدفون هم جيراننا وزملاؤنا",
        "الأرقام الرسمية تقول العكس",
        "القانون يعاقب على التحريض على الكراهية",
        "الجميع يستحق الاحترام في مدينتنا",
    ),
}


def build_counter_speech_library(entries: int, seed: int = 17) -> Any:
    """An organization with ``entries`` approved counter-speech entries (one to three texts
    each, varied targets and strategies), written in bulk, and hateful comments to answer.
    Returns (organization, comments)."""
    import random

    from django.db import transaction

    from beffroi.counterspeech.models import Entry, EntryText, Strategy, Target
    from beffroi.items.models import Author, Item
    from beffroi.organizations.models import Organization
    from beffroi.sources.models import DEMO_SETTING, Source

    rng = random.Random(seed)
    targets = [value for value, _label in Target.choices]
    strategies = [value for value, _label in Strategy.choices]
    with transaction.atomic():
        org = Organization.objects.create(slug="bench-counter-speech", name="Bench contre-discours")
        made = Entry.objects.bulk_create(
            Entry(
                organization=org,
                key=f"bench-{number}",
                title=f"Entrée {number}",
                strategy=rng.choice(strategies),
                targets=rng.sample(targets, rng.randint(1, 2)),
                state=Entry.State.APPROVED,
                content_hash="bench",
                approved_hash="bench",
            )
            for number in range(entries)
        )
        texts = []
        for entry in made:
            languages = ["fr", *rng.sample(["en", "ar"], rng.randint(0, 2))]
            for language in languages:
                parts = rng.sample(_COUNTER_SPEECH_PARTS[language], 3)
                words = " ".join(rng.choices(WORDS, k=rng.randint(2, 6)))
                texts.append(
                    EntryText(entry=entry, language=language, text=f"{'. '.join(parts)} ({words}).")
                )
        EntryText.objects.bulk_create(texts, batch_size=2000)
        source = Source.objects.create(
            organization=org, name="Page", platform="facebook", settings={DEMO_SETTING: True}
        )
        author = Author.objects.create(
            organization=org, platform="facebook", platform_id="troll", handle="troll"
        )
        comments = _demo_comments()[:SUGGESTION_SAMPLES] or ["Dehors les migrants"]
        now = datetime.now(UTC)
        items = Item.objects.bulk_create(
            Item(
                organization=org,
                source=source,
                platform="facebook",
                platform_id=f"bench-comment-{index}",
                kind=Item.Kind.COMMENT,
                author=author,
                text=text,
                language="fr",
                created_at=now,
                analysis={"category": "hate", "verdict": "review"},
            )
            for index, text in enumerate(comments)
        )
    return org, items


def measure_counter_speech(entries: int, step: Callable[[str], None]) -> dict[str, Any]:
    """Suggestion latency against a library of ``entries`` entries on one core."""
    from threadpoolctl import threadpool_limits

    from beffroi.counterspeech import suggesting

    step(f"writing a counter-speech library of {entries} entries")
    org, comments = build_counter_speech_library(entries)
    figures: dict[str, Any] = {"entries": entries}
    with threadpool_limits(limits=1):
        for measure in ("index_cold_seconds", "index_warm_seconds", "index_stored_seconds"):
            # Cold: nothing kept; warm: the embeddings on disk; stored: the built index.
            suggesting.forget_indexes(on_disk=measure != "index_stored_seconds")
            started = time.perf_counter()
            suggesting.library_index(org)
            figures[measure] = round(time.perf_counter() - started, 2)
        step(f"asking the suggestions for {len(comments)} hateful comments, one by one")
        samples = []
        for comment in comments:
            started = time.perf_counter()
            suggested = suggesting.suggest(org, comment)
            samples.append(time.perf_counter() - started)
            if not suggested:
                raise RuntimeError("the bench library suggested nothing")
    figures["suggestion"] = {"samples": len(samples), **_percentiles(samples)}
    return figures


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
    desk_conversations: int = 0,
    publishing_posts: int = 0,
    counter_speech_entries: int = 0,
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
    # Last: its items would otherwise be judged and clustered by the measurements above.
    desk_figures = measure_desk(env, desk_conversations, step) if desk_conversations else None
    publishing_figures = (
        measure_publishing(env, publishing_posts, step) if publishing_posts else None
    )
    counter_speech_figures = (
        measure_counter_speech(counter_speech_entries, step) if counter_speech_entries else None
    )
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
        **({"desk": desk_figures} if desk_figures else {}),
        **({"publishing": publishing_figures} if publishing_figures else {}),
        **({"counter_speech": counter_speech_figures} if counter_speech_figures else {}),
    }
