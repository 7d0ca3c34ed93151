"""Counter-speech retrieval measured on hate speech / reply pairs (``beffroi eval
counter-speech``).

The file is a CSV (or TSV) with one pair per row: a hate speech, a reply written for it,
optionally the group it targets and the language of the row. For each distinct hate speech,
every distinct reply of the file is a candidate, and the relevant ones are the replies
paired with it in the file. Measured: R@1 and R@5 (a relevant reply first, or in the first
five), MRR, and, with a target column, ``same_target_r_at_1``: the first reply was written
for a hate speech of the same target.

Languages, for a run in one language or across two (French hate speech, English replies):

- ``language_column``: the language of the row's two texts; rows pair with themselves.
- ``language_from_id_column``: CONAN ids (``FRT1ST0001HS0017CN000002`` and its variants
  ``…P1``/``…P2``, paraphrases of the hate speech in the same language, and ``…T1``, the
  English translation of the pair). The language is the id's first two letters, ``EN``
  for a ``T1`` id; rows with the same id once the suffix is removed are one pair in several
  languages, so a French hate speech is paired with the English translation of its replies.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from beffroi.analysis.counterspeech.retrieval import CounterSpeechEntry, CounterSpeechIndex
from beffroi.analysis.moderation.evaluate import EvaluationError
from beffroi.analysis.table_files import open_table

__all__ = [
    "Benchmark",
    "CounterSpeechEvaluation",
    "EvaluationError",
    "PairRow",
    "RetrievalMetrics",
    "benchmark",
    "conan_id_language",
    "evaluate_index",
    "read_pairs",
    "retrieval_metrics",
]

#: Hate speeches scored per call: bounds memory (one row of scores per reply and query).
BATCH_SIZE = 64

_CONAN_SUFFIX = re.compile(r"(?:P\d+|T\d+)$")


@dataclass(frozen=True)
class PairRow:
    line: int  # 1-based data row number (header excluded)
    hate: str
    reply: str
    target: str = ""
    language: str = ""  # of both texts of the row, upper case; "" when not known
    pair: str = ""  # rows with the same pair key are one pair in several languages


def conan_id_language(identifier: str) -> tuple[str, str]:
    """(language, pair key) of a CONAN ``cn_id``: ``FRT1…CN000002T1`` → ``("EN", "FRT1…CN000002")``."""
    identifier = identifier.strip()
    suffix = _CONAN_SUFFIX.search(identifier)
    language = "EN" if suffix and suffix.group().startswith("T") else identifier[:2].upper()
    return language, identifier[: suffix.start()] if suffix else identifier


def read_pairs(
    path: Path,
    hate_column: str,
    reply_column: str,
    *,
    target_column: str | None = None,
    language_column: str | None = None,
    language_from_id_column: str | None = None,
) -> list[PairRow]:
    """The pairs of a CSV or TSV file; rows without a hate speech or a reply are skipped."""
    if language_column and language_from_id_column:
        raise EvaluationError("give a language column or an id column, not both")
    optional = [target_column, language_column, language_from_id_column]
    reader = open_table(path, [hate_column, reply_column, *[c for c in optional if c]])
    rows: list[PairRow] = []
    try:
        for number, record in enumerate(reader, start=1):
            hate = (record.get(hate_column) or "").strip()
            reply = (record.get(reply_column) or "").strip()
            if not hate or not reply:
                continue
            target = (record.get(target_column) or "").strip() if target_column else ""
            language, pair = "", str(number)
            if language_column:
                language = (record.get(language_column) or "").strip().upper()
            elif language_from_id_column:
                identifier = (record.get(language_from_id_column) or "").strip()
                if identifier:
                    language, pair = conan_id_language(identifier)
            rows.append(PairRow(number, hate, reply, target, language, pair))
    except csv.Error as error:
        raise EvaluationError(f"{path}: malformed CSV ({error})") from error
    if not rows:
        raise EvaluationError(f"{path}: no row has both a hate speech and a reply")
    return rows


@dataclass(frozen=True)
class Benchmark:
    """Distinct hate speeches (queries), distinct replies (candidates) and, per query, the
    indices of its relevant replies."""

    queries: tuple[str, ...]
    query_targets: tuple[str, ...]
    query_language: str | None
    replies: tuple[CounterSpeechEntry, ...]
    relevant: tuple[frozenset[int], ...]


def benchmark(
    rows: Sequence[PairRow],
    *,
    query_language: str | None = None,
    reply_language: str | None = None,
) -> Benchmark:
    """Queries from the rows in ``query_language`` (all rows: ``None``), candidates from the
    rows in ``reply_language`` (in another language than the queries: of the pairs that
    have a row in the queries' language); a reply is relevant to a hate speech when one of
    its rows shares a pair key with one of the hate speech's rows."""
    wanted_query = query_language.upper() if query_language else None
    wanted_reply = reply_language.upper() if reply_language else None
    hate_rows = [row for row in rows if wanted_query is None or row.language == wanted_query]
    reply_rows = [row for row in rows if wanted_reply is None or row.language == wanted_reply]
    if wanted_reply is not None and wanted_reply != wanted_query:
        # Across languages, the candidates are the translations of the query language's
        # pairs: the same replies as a run in one language, so that the two compare.
        translated = {row.pair for row in hate_rows}
        reply_rows = [row for row in reply_rows if row.pair in translated]
    if not hate_rows:
        raise EvaluationError(f"no row in language {query_language!r}")
    if not reply_rows:
        raise EvaluationError(
            f"no hate speech in {query_language!r} has a reply in {reply_language!r}"
        )
    reply_index: dict[str, int] = {}
    reply_targets: dict[str, set[str]] = {}
    replies_of_pair: dict[str, set[int]] = {}
    for row in reply_rows:
        index = reply_index.setdefault(row.reply, len(reply_index))
        if row.target:
            reply_targets.setdefault(row.reply, set()).add(row.target)
        replies_of_pair.setdefault(row.pair, set()).add(index)
    replies = tuple(
        CounterSpeechEntry(
            id=str(index),
            text=text,
            language=wanted_reply or "",
            targets=tuple(sorted(reply_targets.get(text, ()))),
        )
        for text, index in reply_index.items()
    )
    relevant: dict[str, set[int]] = {}
    targets: dict[str, str] = {}
    for row in hate_rows:
        found = relevant.setdefault(row.hate, set())
        found.update(replies_of_pair.get(row.pair, ()))
        if row.target:
            targets.setdefault(row.hate, row.target)
    queries = tuple(hate for hate, found in relevant.items() if found)
    if not queries:
        raise EvaluationError(
            f"no hate speech in {query_language!r} has a reply in {reply_language!r}"
        )
    return Benchmark(
        queries=queries,
        query_targets=tuple(targets.get(hate, "") for hate in queries),
        query_language=wanted_query,
        replies=replies,
        relevant=tuple(frozenset(relevant[hate]) for hate in queries),
    )


@dataclass(frozen=True)
class RetrievalMetrics:
    queries: int
    replies: int
    r_at_1: float
    r_at_5: float
    mrr: float
    same_target_r_at_1: float | None
    targeted_queries: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "queries": self.queries,
            "replies": self.replies,
            "r_at_1": round(self.r_at_1, 4),
            "r_at_5": round(self.r_at_5, 4),
            "mrr": round(self.mrr, 4),
            "same_target_r_at_1": (
                round(self.same_target_r_at_1, 4) if self.same_target_r_at_1 is not None else None
            ),
            "targeted_queries": self.targeted_queries,
        }


def retrieval_metrics(
    rankings: Sequence[Sequence[int]],
    relevant: Sequence[frozenset[int]],
    *,
    replies: Sequence[CounterSpeechEntry] = (),
    query_targets: Sequence[str] = (),
) -> RetrievalMetrics:
    """R@1, R@5 (a relevant reply among the first 1 or 5: the usual definition for
    response retrieval with one answer wanted), MRR of the first relevant reply (0 when
    none is ranked), and R@1 of the target: the first reply was written for the query's
    target (over the queries with a target, when the replies declare targets)."""
    if len(rankings) != len(relevant):
        raise ValueError("one ranking per query")
    if not rankings:
        raise EvaluationError("no hate speech to evaluate")
    firsts = fives = reciprocal = 0.0
    same_target = 0
    targeted = 0
    for row, (ranking, wanted) in enumerate(zip(rankings, relevant, strict=True)):
        hit = next((rank for rank, reply in enumerate(ranking, start=1) if reply in wanted), None)
        firsts += hit == 1
        fives += hit is not None and hit <= 5
        reciprocal += 1.0 / hit if hit else 0.0
        target = query_targets[row] if row < len(query_targets) else ""
        if target and replies and ranking:
            targeted += 1
            same_target += target in replies[ranking[0]].targets
    count = len(rankings)
    return RetrievalMetrics(
        queries=count,
        replies=len(replies),
        r_at_1=firsts / count,
        r_at_5=fives / count,
        mrr=reciprocal / count,
        same_target_r_at_1=same_target / targeted if targeted else None,
        targeted_queries=targeted,
    )


#: How deep the ranking goes for MRR: far enough that a missed reply still counts a little.
MRR_DEPTH = 100


@dataclass
class CounterSpeechEvaluation:
    metrics: RetrievalMetrics
    queries_per_second: float


def evaluate_index(
    index: CounterSpeechIndex,
    bench: Benchmark,
    *,
    progress: Callable[[int], None] | None = None,
) -> CounterSpeechEvaluation:
    """Rank the benchmark's replies (``index`` must hold them, in order) for every hate
    speech, timed, and measure."""
    if len(index.entries) != len(bench.replies):
        raise ValueError("the index must hold the benchmark's replies")
    depth = min(MRR_DEPTH, len(bench.replies))
    rankings: list[list[int]] = []
    started = time.perf_counter()
    for start in range(0, len(bench.queries), BATCH_SIZE):
        batch = list(bench.queries[start : start + BATCH_SIZE])
        table = index.scores(batch, [bench.query_language] * len(batch))
        best = np.argpartition(-table, depth - 1, axis=1)[:, :depth]
        for row, candidates in enumerate(best):
            order = candidates[np.argsort(-table[row, candidates], kind="stable")]
            rankings.append([int(reply) for reply in order])
        if progress is not None:
            progress(len(batch))
    seconds = time.perf_counter() - started
    return CounterSpeechEvaluation(
        metrics=retrieval_metrics(
            rankings, bench.relevant, replies=bench.replies, query_targets=bench.query_targets
        ),
        queries_per_second=len(bench.queries) / seconds if seconds > 0 else 0.0,
    )
