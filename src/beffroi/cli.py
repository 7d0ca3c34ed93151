"""The ``beffroi`` command line: the main group, the commands of the server and of its
operator, and the registration of the apps' and plugins' command groups
(:data:`beffroi.extensions.COMMANDS`). What commands share is in :mod:`beffroi.cli_support`.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click

from beffroi import extensions
from beffroi.cli_support import console, org_context, out, progress_bar, setup_django


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="beffroi")
def main() -> None:
    """Beffroi: listen, moderate, answer, counter and publish for public institutions.

    Settings come from the environment: BEFFROI_HOME (data directory, default ./var),
    DATABASE_URL (default: SQLite in BEFFROI_HOME), BEFFROI_BROKER_URL (Celery on Redis;
    unset: background work in-process), BEFFROI_SECRET_KEY, BEFFROI_PORT.
    """


@main.command()
def init() -> None:
    """Create or upgrade the database (idempotent)."""
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from django.conf import settings

    console.print(f"[green]Database ready[/green] ({settings.DATABASES['default']['ENGINE']}).")


@main.command()
def demo() -> None:
    """Load the demo town (items, sources, users); running it twice adds nothing."""
    setup_django()
    from django.core.management import call_command

    from beffroi.demo.briefs import load_demo_brief
    from beffroi.demo.counterspeech import load_demo_counter_speech
    from beffroi.demo.desk import load_demo_desk
    from beffroi.demo.load import DEMO_PASSWORD, load_demo
    from beffroi.demo.publishing import load_demo_publishing
    from beffroi.jobs.engine import run_pending
    from beffroi.moderation.cli import judge_waiting
    from beffroi.veille.cli import scan_now

    call_command("migrate", interactive=False, verbosity=0)
    with progress_bar() as progress:
        task = progress.add_task("Loading the demo town", total=None)
        summary = load_demo(
            progress=lambda done, total: progress.update(task, completed=done, total=total)
        )
    org = summary.organization
    out.print(
        f"Demo organization [bold]{org.name}[/bold] ({org.slug}): "
        f"{summary.created} items added, {summary.existing} already there."
    )
    # Judged here rather than by the first background run, so the queue is full when the
    # server starts.
    judge_waiting(org)
    scan_now(org)
    # The desk as the town's agents left it: services, saved replies, requests routed.
    load_demo_desk(org)
    # The publishing calendar as the town's communication left it: posts out, coming, one
    # waiting for the mayor, one failed, an electoral reserve period.
    load_demo_publishing(org)
    counter_speech = load_demo_counter_speech(org)
    summary.users.extend(counter_speech.logins)
    # The national cell's response brief about the water rumour, answered by the town.
    load_demo_brief(counter_speech)
    # The charter's hides and the desk's replies on the demo's (credential-less) sources
    # are simulated by the platform jobs: run now, so the demo shows them done (simulated).
    ran = run_pending()
    if ran:
        out.print(f"{ran} background jobs run (the demo's platform actions, simulated).")
    out.print(f"Demo logins (password [bold]{DEMO_PASSWORD}[/bold]):")
    for username, role in summary.users:
        out.print(f"  {username:10} {role}")
    out.print(
        f"  'maire' is an administrator: two-factor code from an authenticator app with the "
        f"secret [bold]{summary.totp_secret_base32}[/bold]."
    )


def proxy_options() -> dict[str, Any]:
    """Waitress drops X-Forwarded-Proto unless it comes from the trusted proxy: name it.

    X-Forwarded-For from it too: waitress then gives the browser's address as REMOTE_ADDR
    (the last one the proxy added), which login throttling counts (accounts/throttle.py).
    """
    from beffroi import config

    address = config.proxy_address()
    if address is None:
        return {}
    return {
        "trusted_proxy": address,
        "trusted_proxy_headers": {"x-forwarded-proto", "x-forwarded-for"},
    }


#: Waitress's own default, said here: a request body past this waits in a temporary file
#: (not in memory) until it is whole, then the application is called.
INBUF_OVERFLOW_BYTES = 512 * 1024


def waitress_options(threads: int = 8) -> dict[str, Any]:
    """The options ``beffroi serve`` gives waitress, besides where it listens (the tests
    start their server with them too).

    Waitress reads a request body whole before calling the application, past
    ``inbuf_overflow`` into a temporary file, and refuses one over ``max_request_body_size``
    without reading it: the largest the media library's upload takes. The other addresses'
    smaller limit is the application's outermost layer's (``web/request_limits.py``).
    """
    from beffroi import config

    return {
        "threads": threads,
        "ident": "beffroi",
        "max_request_body_size": config.MAX_MEDIA_REQUEST_BYTES,
        "inbuf_overflow": INBUF_OVERFLOW_BYTES,
        **proxy_options(),
    }


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Default: BEFFROI_PORT or 8000.")
@click.option("--threads", type=int, default=8, show_default=True, help="Web server threads.")
@click.option(
    "--workers",
    type=int,
    default=2,
    show_default=True,
    help="In-process background threads (embedded mode only): two, so that a long veille "
    "scan never holds up the moderation of new comments.",
)
@click.option("--no-background", is_flag=True, help="Do not run background work in this process.")
def serve(host: str, port: int | None, threads: int, workers: int, no_background: bool) -> None:
    """Serve the web application (waitress) with background work in the same process."""
    setup_django()
    from django.core.management import call_command
    from waitress import serve as waitress_serve

    from beffroi import config
    from beffroi.core.uploads import remove_stale_uploads
    from beffroi.jobs.engine import EmbeddedRunner, is_distributed
    from beffroi.web.wsgi import application

    call_command("migrate", interactive=False, verbosity=0)
    remove_stale_uploads()  # what a killed server left while it imported an upload
    port = port or config.port()
    runner = None
    if not no_background and not is_distributed():
        runner = EmbeddedRunner(threads=workers)
        runner.start()
        console.print("Background work runs in this process.")
    elif is_distributed():
        console.print("Background work goes to Celery workers (BEFFROI_BROKER_URL).")
    out.print(f"Beffroi is served on [bold]http://{host}:{port}/[/bold] (Ctrl+C to stop).")
    try:
        waitress_serve(application, host=host, port=port, **waitress_options(threads))
    finally:
        if runner is not None:
            runner.stop()


@main.command()
@click.option("--concurrency", type=int, default=2, show_default=True)
@click.option("--loglevel", default="INFO", show_default=True)
@click.option(
    "--queues",
    type=click.Choice(["fast,slow", "fast", "slow"]),
    default="fast,slow",
    show_default=True,
    help="With BEFFROI_BROKER_URL: the work this worker takes. fast: judging, replies, "
    "publishing, deliveries; slow: scans, syncs, retraining (docs/deployment.md).",
)
def worker(concurrency: int, loglevel: str, queues: str) -> None:
    """Run background work: a Celery worker when BEFFROI_BROKER_URL is set, else in-process."""
    setup_django()
    import threading
    import time

    from beffroi.jobs.engine import (
        EmbeddedRunner,
        celery_queues,
        is_distributed,
        release_orphans,
        sweep,
    )

    if not is_distributed():
        console.print("No BEFFROI_BROKER_URL: running the embedded runner (Ctrl+C to stop).")
        runner = EmbeddedRunner(threads=concurrency)
        runner.start()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            runner.stop()
        return

    from django.db import close_old_connections

    from beffroi.jobs.celery_app import app

    def sweeper() -> None:
        # Hands out again jobs whose worker died or whose message was lost; idempotent.
        while True:
            try:
                sweep()
            except Exception as exc:  # keep sweeping through a database restart
                console.print(f"sweeper: {exc}")
            finally:
                close_old_connections()
            time.sleep(float(os.environ.get("BEFFROI_SWEEP_SECONDS", "15")))

    release_orphans()
    threading.Thread(target=sweeper, name="beffroi-sweeper", daemon=True).start()
    app.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            f"--loglevel={loglevel}",
            "-Q",
            ",".join(celery_queues(queues)),
        ]
    )


@main.command(name="import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_slug", required=True, help="Organization slug.")
@click.option("--source", "source_name", required=True, help="Source name (created if absent).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "ndjson"]),
    default=None,
    help="Default: from the file extension.",
)
@click.option(
    "--platform",
    default=None,
    help="Platform of the rows that name none, e.g. x, instagram or tiktok for a 4CAT CSV "
    "export (default: detect — the file's platform column or Zeeschuimer's, else 'file').",
)
@click.option(
    "--skip-invalid", is_flag=True, help="Import the valid rows, write the others to a file."
)
@click.option(
    "--rejected",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write rejected rows (default: PATH.rejected.csv).",
)
def import_(
    path: Path,
    org_slug: str,
    source_name: str,
    fmt: str | None,
    platform: str | None,
    skip_invalid: bool,
    rejected: Path | None,
) -> None:
    """Import a CSV or NDJSON file of items (see docs/import-format.md).

    The whole file is checked first: if it cannot be read (empty, wrong format…) or any row
    is invalid (unless --skip-invalid), nothing is imported, the file's problem or every bad
    row is listed and the exit code is 2.
    """
    setup_django()
    from beffroi.connectors.base import ConfigurationError
    from beffroi.connectors.fileimport import ImportFormatError, check_import_platform
    from beffroi.sources.imports import import_file_into

    if platform is not None and platform.strip().lower() != "detect":
        try:
            platform = check_import_platform(platform)
        except ConfigurationError as exc:
            raise click.BadParameter(str(exc), param_hint="'--platform'") from None
    else:
        platform = None
    context = org_context(org_slug)
    rejected = rejected or path.with_suffix(path.suffix + ".rejected.csv")
    try:
        with progress_bar() as progress:
            task = progress.add_task(f"Importing {path.name}", total=None)
            report, _source, created_source = import_file_into(
                context.actor,
                context.organization,
                source_name,
                path,
                fmt=fmt,
                platform=platform,
                skip_invalid=skip_invalid,
                rejected_path=rejected,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except ImportFormatError as exc:
        # The file itself is refused: the same exit code as refused rows, for every format.
        console.print(f"Error: {exc}", style="red", markup=False, highlight=False)
        console.print("Nothing was imported.")
        sys.exit(2)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    if not report.imported:
        console.print(f"[red]{len(report.errors)} invalid row(s); nothing was imported.[/red]")
        for error in report.errors:
            console.print(f"  line {error.line}: {error.reason}", markup=False, highlight=False)
        console.print("Fix them, or use --skip-invalid to import the valid rows.")
        sys.exit(2)
    if created_source:
        console.print(f"Created file source '{source_name}'.")
    if report.errors:
        console.print(
            f"{len(report.errors)} invalid row(s) skipped, written to {report.rejected_path}."
        )
    if report.in_other_sources:
        console.print(
            f"Warning: {report.in_other_sources} item(s) of this file are also in another "
            f"source ({', '.join(report.other_sources)}): each source keeps its own copy. An "
            "item is identified by its source and its platform id (see docs/import-format.md).",
            style="yellow",
            markup=False,
            highlight=False,
        )
    if report.created == 0 and report.existing:
        out.print(f"Nothing new: all {report.existing} rows were already imported.")
    else:
        out.print(f"Imported {report.created} new item(s); {report.existing} already there.")


@main.command()
@click.option("--org", "org_slug", required=True)
@click.option("--source", "source_name", default=None, help="One source (default: all enabled).")
@click.option("--background", is_flag=True, help="Enqueue jobs instead of syncing here.")
def sync(org_slug: str, source_name: str | None, background: bool) -> None:
    """Fetch what is new from the organization's connected sources."""
    setup_django()
    from beffroi.connectors.base import AuthError, ConnectorError, RateLimited
    from beffroi.sources.models import UPLOAD_PLATFORMS, Source
    from beffroi.sources.services import request_sync
    from beffroi.sources.sync import sync_source

    context = org_context(org_slug)
    sources = context.scoped(Source).exclude(platform__in=UPLOAD_PLATFORMS)
    if source_name:
        sources = sources.filter(name=source_name)
        if not sources.exists():
            raise click.ClickException(f"No connected source '{source_name}' in {org_slug}.")
    else:
        sources = sources.filter(enabled=True)
    failures = 0
    for source in sources:
        if background:
            job = request_sync(context.actor, source)
            out.print(f"{source.name}: job {job.pk} ({job.state}).")
            continue
        try:
            with console.status(f"Syncing {source.name}…"):
                outcome = sync_source(source)
        except AuthError as exc:
            failures += 1
            console.print(
                f"[red]{source.name}: credentials refused[/red] — {exc} "
                "Reconnect the account in the source's settings."
            )
        except RateLimited as exc:
            failures += 1
            console.print(
                f"[yellow]{source.name}: rate limited[/yellow] — {exc} "
                f"Retry after {int(exc.retry_after or 60)} s; what was fetched is kept."
            )
        except ConnectorError as exc:
            failures += 1
            console.print(f"[red]{source.name}: {exc}[/red] What was fetched before is kept.")
        else:
            out.print(
                f"{source.name}: {outcome.created} new item(s), {outcome.existing} already "
                f"there, {outcome.batches} batch(es)."
            )
    if failures:
        sys.exit(1)


@main.command()
@click.option("--org", "org_slug", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats(org_slug: str, as_json: bool) -> None:
    """Counts of items, sources, authors, decisions and cases."""
    setup_django()
    from beffroi.overview.stats import organization_stats

    data = organization_stats(org_context(org_slug).organization)
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    for key, value in data.items():
        out.print(f"{key:18} {value}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--markdown", "as_markdown", is_flag=True, help="Print the table of docs/connectors.md."
)
def connectors(as_json: bool, as_markdown: bool) -> None:
    """Every platform: how it connects, what it fetches, what it can do and what not."""
    from dataclasses import asdict

    from rich.table import Table

    from beffroi.connectors.catalog import catalog, markdown

    rows = catalog()
    if as_json:
        click.echo(json.dumps([asdict(row) for row in rows], indent=2))
        return
    if as_markdown:
        click.echo(markdown(rows))
        return
    table = Table(title="Beffroi connectors", show_lines=True)
    for column in ("platform", "connect with", "fetches", "acts", "not supported by the platform"):
        table.add_column(column, overflow="fold")
    for row in rows:
        missing = "\n".join(f"{name}: {why}" if why else name for name, why in row.not_supported)
        table.add_row(
            f"{row.label}\n({row.platform})",
            row.auth,
            "\n".join(row.fetches) or "—",
            "\n".join(row.actions) or "—",
            missing or "—",
        )
    out.print(table)


@main.command()
@click.option(
    "--items",
    type=int,
    default=20000,
    show_default=True,
    help="Synthetic items to ingest and import.",
)
@click.option("--pages", type=int, default=60, show_default=True, help="Web pages to request.")
@click.option(
    "--moderation-items",
    type=int,
    default=5000,
    show_default=True,
    help="Comments judged to measure moderation throughput.",
)
@click.option(
    "--arrivals",
    type=int,
    default=200,
    show_default=True,
    help="Comments arriving one by one to measure the time to a decision.",
)
@click.option(
    "--desk-conversations",
    type=int,
    default=0,
    show_default=True,
    help="Conversations (five items each) to measure the answering desk with; 0 skips it.",
)
@click.option(
    "--publishing-posts",
    type=int,
    default=0,
    show_default=True,
    help="Posts in the current month to measure the publishing calendar with; 0 skips it.",
)
@click.option(
    "--counter-speech-entries",
    type=int,
    default=0,
    show_default=True,
    help="Entries of the counter-speech library to measure suggestions against; 0 skips it.",
)
@click.option(
    "--distributed",
    is_flag=True,
    help="Instead: judging throughput on PostgreSQL with Celery worker processes (--workers), "
    "beside the embedded default, on --items comments (docs/benchmarks.md).",
)
@click.option(
    "--day",
    is_flag=True,
    help="Instead: a national cell's day of --items posts (campaigns, a hoax, a spike) through "
    "ingestion, judging and the veille on the first --workers count of worker processes "
    "(PostgreSQL + Redis), and through one process on the embedded default; the findings "
    "compared (docs/benchmarks.md).",
)
@click.option(
    "--workers",
    "worker_configurations",
    default="1,2,4",
    show_default=True,
    help="With --distributed: worker processes per run, each optionally x its concurrency "
    "(1,2,4 or 1x1,1x2).",
)
@click.option(
    "--arrival-rate",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="With --distributed: instead, comments arriving at this rate a second, judged by the "
    "first --workers count of fast workers while a slow worker runs the scans: arrival to "
    "judgement p50/p95.",
)
@click.option(
    "--arrival-seconds",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="With --arrival-rate: for how long.",
)
@click.option(
    "--database-url",
    default="postgres://postgres@127.0.0.1:5432/postgres",
    show_default=True,
    help="With --distributed: a PostgreSQL server where a scratch database may be created.",
)
@click.option(
    "--broker-url",
    default="redis://127.0.0.1:6379/12",
    show_default=True,
    help="With --distributed: a Redis database the bench may empty, and the next one (13 by "
    "default), where it holds jobs back.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench(
    items: int,
    pages: int,
    moderation_items: int,
    arrivals: int,
    desk_conversations: int,
    publishing_posts: int,
    counter_speech_entries: int,
    distributed: bool,
    day: bool,
    worker_configurations: str,
    arrival_rate: int,
    arrival_seconds: int,
    database_url: str,
    broker_url: str,
    as_json: bool,
) -> None:
    """Measure the embedded default: memory with the demo town served, page latency,
    ingestion and import speed, moderation speed (in a throw-away data directory).
    With --distributed: judging with 1, 2, 4… worker processes on PostgreSQL instead. With
    --day: a national cell's day through workers and through one process, compared."""
    if day:
        _bench_day(items, worker_configurations, database_url, broker_url, as_json)
        return
    if distributed:
        _bench_distributed(
            items,
            worker_configurations,
            database_url,
            broker_url,
            as_json,
            arrivals=(arrival_rate, arrival_seconds),
        )
        return
    from beffroi.bench import run

    figures = run(
        items,
        pages,
        step=lambda text: console.print(f"[dim]bench:[/dim] {text}"),
        moderation_items=moderation_items,
        arrivals=arrivals,
        desk_conversations=desk_conversations,
        publishing_posts=publishing_posts,
        counter_speech_entries=counter_speech_entries,
    )
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    server = figures["serve_with_demo_town"]
    out.print(
        f"Server with the demo town: {server['rss_kib'] / 1024:.0f} MiB resident "
        f"(peak {server['peak_rss_kib'] / 1024:.0f} MiB); pages p50 {server['p50_ms']} ms, "
        f"p95 {server['p95_ms']} ms"
    )
    out.print(
        f"Ingest: {figures['ingest']['items_per_second']} items/s; CSV import: "
        f"{figures['import_csv']['rows_per_second']} rows/s "
        f"(re-import {figures['import_csv']['reimport_rows_per_second']} rows/s)"
    )
    moderation = figures["moderation"]
    out.print(
        f"Moderation on one core: {moderation['detectors_items_per_second']} items/s "
        f"(detectors and decision), {moderation['with_database_items_per_second']} items/s "
        f"with the database; arrival to decision p50 "
        f"{moderation['arrival_to_decision']['p50_ms']} ms, p95 "
        f"{moderation['arrival_to_decision']['p95_ms']} ms"
    )
    maximal = moderation["maximal_item"]
    out.print(
        f"One maximal comment ({maximal['characters']} characters): judged in "
        f"{maximal['judging_seconds']} s, peak {maximal['judging_peak_traced_kib'] / 1024:.0f} MiB "
        f"allocated; its PDF dossier in {maximal['dossier_pdf_seconds']} s "
        f"({maximal['dossier_pdf_bytes'] / 1024:.0f} KiB)"
    )
    desk = figures.get("desk")
    if desk:
        out.print(
            f"Answering desk, {desk['conversations']} conversations ({desk['items']} items): "
            f"list p95 {desk['list']['p95_ms']} ms, breaching view p95 "
            f"{desk['list_breaching']['p95_ms']} ms, conversation p95 "
            f"{desk['conversation']['p95_ms']} ms; every clock in {desk['clocks']['seconds']} s"
        )
    publishing = figures.get("publishing")
    if publishing:
        out.print(
            f"Publishing calendar, {publishing['posts']} posts in the month: month view p95 "
            f"{publishing['calendar_month']['p95_ms']} ms, week view p95 "
            f"{publishing['calendar_week']['p95_ms']} ms"
        )
    counter_speech = figures.get("counter_speech")
    if counter_speech:
        out.print(
            f"Counter-speech suggestions, library of {counter_speech['entries']} entries, one "
            f"core: p50 {counter_speech['suggestion']['p50_ms']} ms, p95 "
            f"{counter_speech['suggestion']['p95_ms']} ms (index built in "
            f"{counter_speech['index_cold_seconds']} s cold, "
            f"{counter_speech['index_warm_seconds']} s from the cache)"
        )


def _bench_day(
    posts: int, worker_configurations: str, database_url: str, broker_url: str, as_json: bool
) -> None:
    from beffroi.bench_day import run_day
    from beffroi.bench_distributed import DistributedBenchError, parse_configurations

    try:
        workers = parse_configurations(worker_configurations)[0].processes
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--workers'") from None
    try:
        figures = run_day(
            posts,
            workers,
            database_url=database_url,
            broker_url=broker_url,
            step=lambda text: console.print(f"[dim]bench:[/dim] {text}"),
        )
    except DistributedBenchError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    spread, single = figures["distributed"], figures["single_process"]
    out.print(
        f"A day of {figures['day']['posts']} posts: {spread['workers']} worker process(es) "
        f"{spread['wall_seconds']} s ({spread['posts_per_second']} posts/s), peak "
        f"{spread['peak_rss_kib_per_worker_process'] // 1024} MiB per process; one process "
        f"{single['wall_seconds']} s, peak {single['peak_rss_kib'] // 1024} MiB"
    )
    for kind, entry in figures["findings"].items():
        same = "same" if entry["equal"] else "DIFFERENT"
        out.print(
            f"  {kind}: {entry['distributed']} distributed, {entry['single_process']} in one "
            f"process — {same}"
        )


def _bench_distributed(
    items: int,
    worker_configurations: str,
    database_url: str,
    broker_url: str,
    as_json: bool,
    arrivals: tuple[int, int] = (0, 300),
) -> None:
    from beffroi.bench_distributed import (
        DistributedBenchError,
        parse_configurations,
        run_distributed,
    )

    try:
        configurations = parse_configurations(worker_configurations)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--workers'") from None
    try:
        figures = run_distributed(
            items,
            configurations,
            database_url=database_url,
            broker_url=broker_url,
            step=lambda text: console.print(f"[dim]bench:[/dim] {text}"),
            arrival_rate=arrivals[0],
            arrival_seconds=arrivals[1],
        )
    except DistributedBenchError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    arrived = figures.get("arrivals")
    if arrived:
        latency = arrived["arrival_to_judgement"]
        out.print(
            f"{arrived['rate_per_second']} comments/s for {arrived['seconds']} s, "
            f"{arrived['fast_workers']} fast worker(s): arrival to judgement p50 "
            f"{latency.get('p50_ms')} ms, p95 {latency.get('p95_ms')} ms; judged "
            f"{arrived['judged']} of {arrived['arrived']}, left new {arrived['left_new']}"
        )
    embedded = figures.get("embedded")
    if embedded:
        out.print(
            f"Embedded (SQLite): {embedded['warm_items_per_second']} items/s warm, "
            f"{embedded['cold_items_per_second']} cold"
        )
    for run in figures["distributed"]:
        out.print(
            f"PostgreSQL + Celery, {run['processes']} process(es) x {run['concurrency']}: "
            f"{run['warm_items_per_second']} items/s warm "
            f"(x{run.get('warm_speedup_over_one_worker', 1)}), "
            f"{run['cold_items_per_second']} cold; peak {run['peak_rss_kib_per_process'] // 1024} "
            f"MiB per process; left new {run['left_new']}, decided twice {run['decided_twice']}"
        )


@main.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Run a Django management command (migrate, createsuperuser, makemigrations…)."""
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["beffroi manage", *args])


#: The apps' command groups, registered as a plugin's are.
BUILTIN_COMMANDS = (
    "beffroi.accounts.cli:register_commands",
    "beffroi.organizations.cli:register_commands",
    "beffroi.charter.cli:register_commands",
    "beffroi.moderation.cli:register_commands",
    "beffroi.veille.cli:register_commands",
    "beffroi.publishing.cli:register_commands",
    "beffroi.evaluation_cli:register_commands",
    "beffroi.models_cli:register_commands",
)


def _load(target: str) -> Any:
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def register_commands(cli: click.Group) -> None:
    """Add the apps' command groups, then the plugins' (:data:`beffroi.extensions.COMMANDS`).

    A plugin's command never replaces one already there (as a built-in connector wins over a
    plugin's of the same name): the operator is told and the built-in one stays.
    """
    for target in BUILTIN_COMMANDS:
        _load(target)(cli)
    for entry_point in entry_points(group=extensions.COMMANDS):
        before = dict(cli.commands)
        entry_point.load()(cli)
        for name, command in before.items():
            if cli.commands.get(name) is not command:
                cli.add_command(command, name)
                console.print(
                    f"The plugin command '{name}' of {entry_point.value} is ignored: "
                    f"'beffroi {name}' is already a command.",
                    style="yellow",
                    markup=False,
                    highlight=False,
                )


register_commands(main)

if __name__ == "__main__":
    main()
