"""Claim retrieval measured on CLEF CheckThat! 2020 task 2 files (``beffroi eval claims``).

Formats (tab-separated): claims ``id, vclaim, title`` with a header line (quoted fields,
doubled quotes); queries ``tweet_id, tweet_content`` with a header line (more columns are
ignored); qrels ``tweet_id 0 claim_id 1``, one pair per line, no header.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from beffroi.analysis.claims.retrieval import Claim, ClaimIndex

__all__ = [
    "ClaimsEvaluationError",
    "Query",
    "RankingMetrics",
    "evaluate_index",
    "ranking_metrics",
    "read_claims",
    "read_qrels",
    "read_queries",
]

#: Queries scored per call: bounds memory (one row of scores per claim and query).
BATCH_SIZE = 64


class ClaimsEvaluationError(Exception):
    """A problem with an input file, said so that the user can fix it."""


@dataclass(frozen=True)
class Query:
    id: str
    text: str


def _rows(path: Path) -> list[list[str]]:
    try:
        content = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise ClaimsEvaluationError(f"cannot read {path}: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise ClaimsEvaluationError(f"{path} is not UTF-8 text") from error
    if not content.strip():
        raise ClaimsEvaluationError(f"{path} is empty")
    try:
        return [row for row in csv.reader(io.StringIO(content, newline=""), delimiter="\t") if row]
    except csv.Error as error:
        raise ClaimsEvaluationError(f"{path}: malformed TSV ({error})") from error


def read_claims(path: Path) -> list[Claim]:
    rows = _rows(path)[1:]
    claims: list[Claim] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise ClaimsEvaluationError(
                f"{path}, line {line}: expected 'id <TAB> claim [<TAB> title]'"
            )
        claim_id = row[0].strip()
        if claim_id in seen:
            raise ClaimsEvaluationError(f"{path}, line {line}: claim id {claim_id!r} is used twice")
        seen.add(claim_id)
        claims.append(Claim(claim_id, row[1].strip(), row[2].strip() if len(row) > 2 else ""))
    if not claims:
        raise ClaimsEvaluationError(f"{path}: no claim")
    return claims


def read_queries(path: Path) -> list[Query]:
    rows = _rows(path)[1:]
    queries: list[Query] = []
    for line, row in enumerate(rows, start=2):
        if len(row) < 2 or not row[0].strip():
            raise ClaimsEvaluationError(f"{path}, line {line}: expected 'id <TAB> text'")
        queries.append(Query(row[0].strip(), row[1]))
    if not queries:
        raise ClaimsEvaluationError(f"{path}: no query")
    return queries


def read_qrels(path: Path) -> dict[str, set[str]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise ClaimsEvaluationError(f"cannot read {path}: {error}") from error
    relevant: dict[str, set[str]] = {}
    for number, line in enumerate(lines, start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise ClaimsEvaluationError(
                f"{path}, line {number}: expected 'query_id 0 claim_id relevance'"
            )
        if parts[3] != "0":
            relevant.setdefault(parts[0], set()).add(parts[2])
    if not relevant:
        raise ClaimsEvaluationError(f"{path}: no relevant pair")
    return relevant


@dataclass(frozen=True)
class RankingMetrics:
    queries: int
    k: int
    map_at_k: float
    recall_at_k: float
    precision_at_1: float
    mrr: float

    def as_dict(self) -> dict[str, Any]:
        suffix = str(self.k)
        return {
            "queries": self.queries,
            f"map_at_{suffix}": round(self.map_at_k, 4),
            f"recall_at_{suffix}": round(self.recall_at_k, 4),
            "precision_at_1": round(self.precision_at_1, 4),
            "mrr": round(self.mrr, 4),
        }


def ranking_metrics(
    rankings: Sequence[Sequence[str]], relevant: Sequence[set[str]], k: int
) -> RankingMetrics:
    """MAP@k (average precision over the first k, divided by min(relevant, k)), recall@k,
    P@1 and MRR (over the whole ranking given) for queries with at least one relevant claim."""
    average_precisions: list[float] = []
    recalls: list[float] = []
    firsts: list[float] = []
    reciprocal_ranks: list[float] = []
    for ranking, wanted in zip(rankings, relevant, strict=True):
        if not wanted:
            continue
        hits = 0
        precision_sum = 0.0
        for rank, claim_id in enumerate(ranking[:k], start=1):
            if claim_id in wanted:
                hits += 1
                precision_sum += hits / rank
        average_precisions.append(precision_sum / min(len(wanted), k))
        recalls.append(hits / len(wanted))
        firsts.append(1.0 if ranking and ranking[0] in wanted else 0.0)
        first_hit = next((r for r, c in enumerate(ranking, start=1) if c in wanted), None)
        reciprocal_ranks.append(1.0 / first_hit if first_hit else 0.0)
    count = len(average_precisions)
    if count == 0:
        raise ClaimsEvaluationError("no query has a relevant claim in the qrels")
    return RankingMetrics(
        queries=count,
        k=k,
        map_at_k=sum(average_precisions) / count,
        recall_at_k=sum(recalls) / count,
        precision_at_1=sum(firsts) / count,
        mrr=sum(reciprocal_ranks) / count,
    )


#: How deep the ranking goes for MRR: far enough that a missed claim still counts a little.
MRR_DEPTH = 100


@dataclass
class ClaimsEvaluation:
    metrics: RankingMetrics
    queries_per_second: float
    missing_from_qrels: int


def evaluate_index(
    index: ClaimIndex,
    queries: Sequence[Query],
    relevant: dict[str, set[str]],
    *,
    k: int = 5,
    progress: Callable[[int], None] | None = None,
) -> ClaimsEvaluation:
    """Rank the claims for every query that has relevant claims, timed, and measure."""
    judged = [query for query in queries if query.id in relevant]
    rankings: list[list[str]] = []
    started = time.perf_counter()
    for start in range(0, len(judged), BATCH_SIZE):
        batch = judged[start : start + BATCH_SIZE]
        for matches in index.search([query.text for query in batch], k=MRR_DEPTH):
            rankings.append([match.claim_id for match in matches])
        if progress is not None:
            progress(len(batch))
    seconds = time.perf_counter() - started
    return ClaimsEvaluation(
        metrics=ranking_metrics(rankings, [relevant[query.id] for query in judged], k),
        queries_per_second=len(judged) / seconds if seconds > 0 else 0.0,
        missing_from_qrels=len(queries) - len(judged),
    )
