"""Evaluation of :mod:`beffroi.analysis.narratives` on CLEF CheckThat! 2020 task 2 files.

Gold stories: tweets whose qrels point at the same verified claim (transitively, when a
tweet has several) form one story; a tweet without a claim is a story of its own. Tweets are
fed through :class:`~beffroi.analysis.narratives.NarrativeClusterer` in time order (the date
of a copied tweet's signature, "— Name (@handle) January 6, 2020", then the tweet id; a tweet
without a date takes the previous one's), in batches.

Figures, per threshold, for two views of the result:

- ``clusters``: narratives and candidates both count as clusters (the quality of the
  grouping itself);
- ``narratives``: only narratives count (what an analyst sees; items of candidates are alone).

Each view: pairwise precision, recall and F1 (over pairs of items put together), the
adjusted Rand index, and the number of clusters of 2 items or more; plus the number of
narratives, of ignored items and items per second (embedding included: the texts are
embedded once and shared by every threshold of a sweep; ``clustering_items_per_second``
leaves it out).

Run: ``python -m beffroi.analysis.narratives_eval [--threshold 0.5 0.6 ...] [--json]``
(default files: ``../shared/datasets/clef2020-claim-retrieval/dev.*``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import adjusted_rand_score

from beffroi.analysis.claims.evaluate import ClaimsEvaluationError, read_qrels, read_queries
from beffroi.analysis.grouping import Groups
from beffroi.analysis.narratives import (
    CANDIDATE_WINDOW,
    MIN_ITEMS,
    THRESHOLD,
    Embedder,
    NarrativeClusterer,
    NarrativeItem,
    clean_text,
)

__all__ = ["gold_stories", "main", "pairwise", "read_items", "run"]

DEFAULT_DATA = Path("..") / "shared" / "datasets" / "clef2020-claim-retrieval"
BATCH_SIZE = 32
EMBED_CHUNK = 256
_FALLBACK_DATE = datetime(2020, 1, 1, 12, tzinfo=UTC)
_MONTHS = (
    "january february march april may june july august september october november december"
).split()


def _signature_date(text: str) -> datetime | None:
    words = text.replace(",", " ").split()
    if len(words) < 3:
        return None
    month, day, year = words[-3].lower().rstrip("."), words[-2], words[-1]
    if month not in _MONTHS or not day.isdigit() or not year.isdigit() or len(year) != 4:
        return None
    try:
        return datetime(int(year), _MONTHS.index(month) + 1, int(day), 12, tzinfo=UTC)
    except ValueError:
        return None


def read_items(tweets: Path) -> list[NarrativeItem]:
    """The tweets as items, in time order (see the module's documentation)."""
    queries = read_queries(tweets)
    dated: list[tuple[datetime, int, NarrativeItem]] = []
    last = _FALLBACK_DATE
    for position, query in enumerate(queries):
        moment = _signature_date(query.text) or last
        last = moment
        dated.append((moment, position, NarrativeItem(query.id, query.text, moment, "en")))

    def order(entry: tuple[datetime, int, NarrativeItem]) -> tuple[datetime, int, str, int]:
        identifier = entry[2].id
        number = int(identifier) if identifier.isdigit() else -1
        return entry[0], number, identifier, entry[1]

    dated.sort(key=order)
    # Same-day tweets are spread over the day so that times are distinct and ordered.
    items: list[NarrativeItem] = []
    for offset, (moment, _, item) in enumerate(dated):
        items.append(
            NarrativeItem(item.id, item.text, moment + timedelta(seconds=offset % 40_000), "en")
        )
    return items


def gold_stories(item_ids: Sequence[str], qrels: dict[str, set[str]]) -> dict[str, str]:
    """Story label of each item: items sharing a claim are one story."""
    stories = Groups()
    for item_id in item_ids:
        for claim in sorted(qrels.get(item_id, ())):
            stories.join(f"t:{item_id}", f"c:{claim}")
    return {item_id: stories.find(f"t:{item_id}") for item_id in item_ids}


def pairwise(predicted: Sequence[str], gold: Sequence[str]) -> dict[str, float]:
    """Pairwise precision, recall, F1 (pairs of items put together) and the adjusted Rand
    index of a clustering against gold labels (one label per item, same order)."""

    def pairs(counts: Counter[Any]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    together = pairs(Counter(zip(predicted, gold, strict=True)))
    predicted_pairs, gold_pairs = pairs(Counter(predicted)), pairs(Counter(gold))
    precision = together / predicted_pairs if predicted_pairs else 0.0
    recall = together / gold_pairs if gold_pairs else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ari = float(adjusted_rand_score(list(gold), list(predicted))) if predicted else 0.0
    return {
        "pairwise_precision": round(precision, 4),
        "pairwise_recall": round(recall, 4),
        "pairwise_f1": round(f1, 4),
        "ari": round(ari, 4),
    }


def _labels(
    clusterer: NarrativeClusterer, items: Sequence[NarrativeItem], narratives_only: bool
) -> list[str]:
    promoted = {narrative.id for narrative in clusterer.narratives(keywords=0, representatives=0)}
    labels = []
    for item in items:
        cluster = clusterer.cluster_of(item.id)
        if cluster is None or (narratives_only and cluster not in promoted):
            labels.append(f"alone:{item.id}")
        else:
            labels.append(cluster)
    return labels


def run(
    items: Sequence[NarrativeItem],
    qrels: dict[str, set[str]],
    *,
    thresholds: Sequence[float] = (THRESHOLD,),
    min_items: int = MIN_ITEMS,
    candidate_window: timedelta | None = CANDIDATE_WINDOW,
    batch_size: int = BATCH_SIZE,
    embedder: Embedder | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Cluster ``items`` once per threshold and measure each result against the gold."""
    from rich.console import Console
    from rich.progress import Progress

    if embedder is None:
        from beffroi.analysis.moderation.embedding import embed

        embedder = embed
    gold_by_id = gold_stories([item.id for item in items], qrels)
    gold = [gold_by_id[item.id] for item in items]
    texts = sorted({clean_text(item.text) for item in items})
    vectors: dict[str, NDArray[np.float32]] = {}
    report: dict[str, Any] = {
        "items": len(items),
        "gold_stories": len(set(gold)),
        "gold_stories_of_2_or_more": sum(1 for n in Counter(gold).values() if n >= 2),
        "gold_stories_of_3_or_more": sum(1 for n in Counter(gold).values() if n >= 3),
        "min_items": min_items,
        "candidate_window_days": None
        if candidate_window is None
        else candidate_window / timedelta(days=1),
        "runs": [],
    }
    console = Console(stderr=True)
    with Progress(console=console, disable=not progress, transient=True) as bar:
        task = bar.add_task("embedding", total=len(texts))
        started = time.perf_counter()
        for start in range(0, len(texts), EMBED_CHUNK):
            chunk = texts[start : start + EMBED_CHUNK]
            for text, vector in zip(chunk, embedder(chunk), strict=True):
                vectors[text] = np.asarray(vector, dtype=np.float32)
            bar.advance(task, len(chunk))
        embedding_seconds = time.perf_counter() - started
        report["embedding_seconds"] = round(embedding_seconds, 2)

        def cached(batch: Sequence[str]) -> NDArray[np.float32]:
            return np.stack([vectors[text] for text in batch]).astype(np.float32)

        for threshold in thresholds:
            task = bar.add_task(f"threshold {threshold:g}", total=len(items))
            clusterer = NarrativeClusterer(
                threshold=threshold,
                min_items=min_items,
                candidate_window=candidate_window,
                embedder=cached,
            )
            started = time.perf_counter()
            ignored = 0
            for start in range(0, len(items), batch_size):
                batch = items[start : start + batch_size]
                ignored += sum(a.status == "ignored" for a in clusterer.add(batch))
                bar.advance(task, len(batch))
            seconds = time.perf_counter() - started
            narratives = clusterer.narratives(keywords=0, representatives=0)
            entry: dict[str, Any] = {
                "threshold": threshold,
                "narrative_count": len(narratives),
                "items_in_narratives": sum(n.size for n in narratives),
                "ignored": ignored,
                "items_per_second": round(len(items) / (seconds + embedding_seconds), 1),
                "clustering_items_per_second": round(len(items) / max(seconds, 1e-9), 1),
            }
            for view, only in (("clusters", False), ("narratives", True)):
                labels = _labels(clusterer, items, only)
                figures = pairwise(labels, gold)
                figures["groups"] = sum(1 for n in Counter(labels).values() if n >= 2)
                entry[view] = figures
            report["runs"].append(entry)
            bar.remove_task(task)
    return report


def _table(report: dict[str, Any]) -> str:
    lines = [
        f"{report['items']} items, {report['gold_stories']} gold stories "
        f"({report['gold_stories_of_2_or_more']} of 2+ items, "
        f"{report['gold_stories_of_3_or_more']} of 3+), min_items {report['min_items']}, "
        f"embedding {report['embedding_seconds']} s",
        "threshold | clusters P / R / F1 / ARI | narratives P / R / F1 / ARI | narratives"
        " | items/s",
    ]
    for run_ in report["runs"]:
        c, n = run_["clusters"], run_["narratives"]
        lines.append(
            f"{run_['threshold']:<9g} | {c['pairwise_precision']:.3f} / {c['pairwise_recall']:.3f}"
            f" / {c['pairwise_f1']:.3f} / {c['ari']:.3f} | {n['pairwise_precision']:.3f} / "
            f"{n['pairwise_recall']:.3f} / {n['pairwise_f1']:.3f} / {n['ari']:.3f} | "
            f"{run_['narrative_count']} | {run_['items_per_second']:.0f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, *, embedder: Embedder | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m beffroi.analysis.narratives_eval",
        description="Narrative clustering measured against CLEF 2020 claim groups.",
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--tweets", type=Path, help="default: DATA_DIR/dev.tweets.tsv")
    parser.add_argument("--qrels", type=Path, help="default: DATA_DIR/dev.qrels")
    parser.add_argument("--threshold", type=float, nargs="+", default=[THRESHOLD])
    parser.add_argument("--min-items", type=int, default=MIN_ITEMS)
    parser.add_argument(
        "--candidate-window-days",
        type=float,
        default=CANDIDATE_WINDOW / timedelta(days=1),
        help="0: candidates never expire",
    )
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bar on stderr")
    args = parser.parse_args(argv)
    tweets = args.tweets or args.data_dir / "dev.tweets.tsv"
    qrels_path = args.qrels or args.data_dir / "dev.qrels"
    if args.batch_size < 1 or args.min_items < 1 or args.candidate_window_days < 0:
        parser.error("--batch-size and --min-items must be at least 1, the window not negative")
    try:
        items = read_items(tweets)
        qrels = read_qrels(qrels_path)
    except ClaimsEvaluationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    window = args.candidate_window_days
    report = run(
        items,
        qrels,
        thresholds=args.threshold,
        min_items=args.min_items,
        candidate_window=timedelta(days=window) if window else None,
        batch_size=args.batch_size,
        embedder=embedder,
        progress=not args.quiet,
    )
    print(json.dumps(report, indent=2) if args.json else _table(report))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
