"""Side by side with QUT's coordination-network-toolkit, on the same synthetic input.

``python -m beffroi.analysis.coordination_compare --items 100000 --toolkit-python PATH``
generates the corpus of :mod:`.coordination_bench`, writes it in the toolkit's CSV format
(URLs and texts already normalised by Beffroi, so that both tools compare the same strings),
runs the toolkit (``preprocess``, then ``compute co_link`` and ``co_tweet``) with the Python
of its own virtual environment, and compares its account pairs with Beffroi's co-link and
co-post networks: the edges both find, those only one finds, and the time each takes.
"""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from beffroi.analysis.coordination import (
    Campaign,
    Post,
    colink_network,
    copost_network,
    normalize_text,
    normalize_url,
)
from beffroi.analysis.coordination_bench import synthetic_corpus

WINDOW_SECONDS = 60


def _pairs(campaigns: list[Campaign]) -> set[frozenset[str]]:
    return {frozenset((a, b)) for campaign in campaigns for a, b, _ in campaign.edges if a != b}


def _toolkit_pairs(database: Path, table: str) -> set[frozenset[str]]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(f"select user_1, user_2 from {table}").fetchall()  # noqa: S608
    return {frozenset((str(a), str(b))) for a, b in rows if a != b}


def _agreement(ours: set[frozenset[str]], theirs: set[frozenset[str]]) -> dict[str, int]:
    return {
        "edges_beffroi": len(ours),
        "edges_toolkit": len(theirs),
        "edges_both": len(ours & theirs),
        "only_beffroi": len(ours - theirs),
        "only_toolkit": len(theirs - ours),
    }


def _write_toolkit_csv(path: Path, posts: list[Post]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["message_id", "user_id", "username", "repost_id", "reply_id", "message",
             "timestamp", "urls"]
        )  # fmt: skip
        for post in posts:
            writer.writerow(
                [post.id, post.account, post.account, "", "", post.text,
                 int(post.created_at.timestamp()), " ".join(post.urls)]
            )  # fmt: skip


def _toolkit(toolkit_python: str, database: Path, *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [toolkit_python, "-m", "coordination_network_toolkit", str(database), *args],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def compare(items: int, toolkit_python: str, workdir: Path, seed: int = 0) -> dict[str, Any]:
    corpus = synthetic_corpus(items, seed=seed)
    posts = [
        Post(
            post.id,
            post.account,
            normalize_text(post.text),
            post.created_at,
            tuple(normalize_url(url) for url in post.urls),
        )
        for post in corpus.posts
    ]
    figures: dict[str, Any] = {"items": len(posts), "window_seconds": WINDOW_SECONDS}
    # The toolkit reads an empty url column as the URL "": posts without a link go to the
    # co-link database only when they have one.
    with_links = [post for post in posts if post.urls]
    for kind, network, selection in (
        ("co_link", "co_link_network", with_links),
        ("co_tweet", "co_tweet_network", posts),
    ):
        database = workdir / f"{kind}.db"
        source = workdir / f"{kind}.csv"
        _write_toolkit_csv(source, selection)
        preprocess_seconds = _toolkit(toolkit_python, database, "preprocess", str(source))
        compute_seconds = _toolkit(
            toolkit_python, database, "compute", kind, "--time_window", str(WINDOW_SECONDS),
            "--min_edge_weight", "1", "--n_cpus", "2",
        )  # fmt: skip
        started = time.perf_counter()
        if kind == "co_tweet":
            campaigns = copost_network(posts, window=WINDOW_SECONDS, min_accounts=2, min_chars=1)
        else:
            campaigns = colink_network(posts, window=WINDOW_SECONDS, min_accounts=2)
        ours_seconds = time.perf_counter() - started
        figures[kind] = {
            **_agreement(_pairs(campaigns), _toolkit_pairs(database, network)),
            "toolkit_preprocess_seconds": round(preprocess_seconds, 2),
            "toolkit_compute_seconds": round(compute_seconds, 2),
            "beffroi_seconds": round(ours_seconds, 2),
            # Beffroi starts from the posts in memory; the toolkit from its CSV file, which
            # it loads into SQLite first: end to end is preprocess plus compute.
            "speedup_end_to_end": round((preprocess_seconds + compute_seconds) / ours_seconds, 1)
            if ours_seconds
            else None,
        }
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--toolkit-python",
        required=True,
        help="The Python of a virtual environment where coordination-network-toolkit is installed.",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="beffroi-compare-") as directory:
        result = compare(args.items, args.toolkit_python, Path(directory), args.seed)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
