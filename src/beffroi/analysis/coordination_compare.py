"""Side by side with QUT's coordination-network-toolkit, on the same synthetic input.

``python -m beffroi.analysis.coordination_compare --items 100000 --toolkit-python PATH``
generates the corpus of :mod:`.coordination_bench`, writes it in the toolkit's CSV format
(URLs and texts already normalised by Beffroi, so that both tools compare the same strings),
runs the toolkit (``preprocess``, then ``compute co_link`` and ``co_tweet``) with the Python
of its own virtual environment, and compares its account pairs with Beffroi's co-link and
co-post networks: the edges both find, those only one finds, and the time each takes.

``--d3lta-python PATH`` runs VIGINUM's D3lta (``pip install d3lta`` in its own virtual
environment) on the copy, rewording and translation campaigns' side: the corpus (by default
with the bank's real words, see :mod:`.coordination_bench`) is written with each post's
language and its multilingual USE embedding computed by Beffroi
(:func:`beffroi.analysis.moderation.embedding.embed`, on the text without URLs and mentions,
as D3lta's ``text_to_embed``), so that D3lta downloads neither USE nor fastText; the script
:mod:`beffroi.analysis.d3lta_runner` runs ``semantic_faiss`` in that interpreter. Reported:
pairwise precision and recall of each tool's clusters against the injected campaigns (all,
and pairs with a translation post), of Beffroi's against D3lta's, and the time of each.
D3lta clusters any two similar posts; only its clusters of at least ``min_accounts``
distinct accounts are compared, Beffroi's campaign definition (the raw count is given).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from beffroi.analysis.coordination import (
    Campaign,
    Post,
    colink_network,
    copost_network,
    detect_coordination,
    normalize_text,
    normalize_url,
)
from beffroi.analysis.coordination_bench import SyntheticCorpus, pairwise_scores, synthetic_corpus

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


D3LTA_RUNNER = Path(__file__).with_name("d3lta_runner.py")
_STRIP_RE = re.compile(r"(?:https?://|www\.)\S+|(?<!\w)@\w+")


def text_to_embed(text: str) -> str:
    """The text without URLs and mentions (D3lta's ``text_to_embed``), spaces collapsed."""
    return " ".join(_STRIP_RE.sub(" ", text).split())


def write_d3lta_input(
    directory: Path,
    posts: Sequence[Post],
    embeddings: np.ndarray[Any, Any],
    params: dict[str, float] | None = None,
) -> None:
    """The files :mod:`beffroi.analysis.d3lta_runner` reads (see its doc)."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "posts.jsonl").open("w", encoding="utf-8") as handle:
        for post in posts:
            record = {"id": post.id, "text": post.text, "language": post.language or "fr"}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    np.save(directory / "embeddings.npy", np.asarray(embeddings, dtype=np.float32))
    if params:
        (directory / "params.json").write_text(json.dumps(params), encoding="utf-8")


def read_d3lta_output(directory: Path) -> dict[str, Any]:
    """``clusters.json`` written by the runner."""
    result: dict[str, Any] = json.loads((directory / "clusters.json").read_text(encoding="utf-8"))
    return result


def embed_posts(posts: Sequence[Post]) -> np.ndarray[Any, Any]:
    """USE embeddings of :func:`text_to_embed` of each post, each distinct text once."""
    from beffroi.analysis.moderation.embedding import embed

    texts = [text_to_embed(post.text) for post in posts]
    distinct = sorted(set(texts))
    row = {text: i for i, text in enumerate(distinct)}
    vectors = embed(distinct)
    return vectors[[row[text] for text in texts]]


def _campaign_sized(
    clusters: Sequence[Sequence[str]], account_of: dict[str, str], min_accounts: int
) -> list[set[str]]:
    return [set(c) for c in clusters if len({account_of[pid] for pid in c}) >= min_accounts]


def compare_d3lta(
    items: int,
    d3lta_python: str,
    workdir: Path,
    seed: int = 0,
    words: str = "bank",
    min_accounts: int = 3,
    corpus: SyntheticCorpus | None = None,
) -> dict[str, Any]:
    """Beffroi (``translations=True``) and D3lta on the same posts; see the module doc."""
    if corpus is None:
        corpus = synthetic_corpus(items, seed=seed, words=words)
    posts = corpus.posts
    account_of = {post.id: post.account for post in posts}
    started = time.perf_counter()
    embeddings = embed_posts(posts)
    embed_seconds = time.perf_counter() - started
    write_d3lta_input(workdir, posts, embeddings)
    started = time.perf_counter()
    subprocess.run([d3lta_python, str(D3LTA_RUNNER), str(workdir)], check=True, capture_output=True)
    d3lta_wall = time.perf_counter() - started
    d3lta = read_d3lta_output(workdir)
    started = time.perf_counter()
    found = detect_coordination(
        posts, kinds=("copy", "reworded"), min_accounts=min_accounts, translations=True, n_jobs=2
    )
    ours_seconds = time.perf_counter() - started
    ours = [set(c.post_ids) for c in found]
    theirs = _campaign_sized(d3lta["clusters"], account_of, min_accounts)
    truth = [
        ids for (family, _), ids in corpus.campaigns.items() if family in ("text", "translation")
    ]
    translated = {pid for pid, (family, _) in corpus.truth.items() if family == "translation"}

    def scores(predicted: list[set[str]], reference: list[set[str]]) -> dict[str, float]:
        every = pairwise_scores(predicted, reference)
        trans = pairwise_scores(predicted, reference, focus=translated)
        return {
            "precision": round(every["precision"], 3),
            "recall": round(every["recall"], 3),
            "translation_precision": round(trans["precision"], 3),
            "translation_recall": round(trans["recall"], 3),
            "pairs": int(every["pairs_found"]),
        }

    return {
        "items": len(posts),
        "words": words,
        "injected_text_campaigns": len(truth),
        "embedding_seconds": round(embed_seconds, 1),
        "beffroi": {
            **scores(ours, truth),
            "campaigns": len(ours),
            "seconds": round(ours_seconds, 1),
        },
        "d3lta": {
            **scores(theirs, truth),
            "clusters_all": len(d3lta["clusters"]),
            "clusters_min_accounts": len(theirs),
            "matches": d3lta["matches"],
            "match_types": d3lta.get("match_types", {}),
            "semantic_faiss_seconds": round(float(d3lta["seconds"]), 1),
            "subprocess_seconds": round(d3lta_wall, 1),
        },
        # Beffroi's clusters against D3lta's: precision = share of Beffroi's pairs that D3lta
        # has too, recall = share of D3lta's pairs that Beffroi has
        "beffroi_vs_d3lta": scores(ours, theirs),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--toolkit-python",
        help="The Python of a virtual environment where coordination-network-toolkit is installed.",
    )
    parser.add_argument(
        "--d3lta-python", help="The Python of a virtual environment where d3lta is installed."
    )
    parser.add_argument(
        "--words",
        choices=("pseudo", "bank"),
        default="bank",
        help="vocabulary of the corpus for the D3lta run (see coordination_bench)",
    )
    args = parser.parse_args(argv)
    if not args.toolkit_python and not args.d3lta_python:
        parser.error("give --toolkit-python, --d3lta-python or both")
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="beffroi-compare-") as directory:
        if args.toolkit_python:
            result["toolkit"] = compare(args.items, args.toolkit_python, Path(directory), args.seed)
        if args.d3lta_python:
            result["d3lta"] = compare_d3lta(
                args.items, args.d3lta_python, Path(directory) / "d3lta", args.seed, args.words
            )
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
