"""Choosing the weights of the evidence by cross-validation, and measuring the choice on what
it did not see.

The hate speeches of a benchmark are split into folds by *group*: hate speeches that share a
relevant reply (a post and its paraphrases, in CONAN) are one group, always in the same fold,
so that no figure is measured on a post whose twin chose the weights. On each fold, the
weights best on the other folds (the sum of R@1, R@5, MRR and same-target R@1, over a grid)
rank the fold's hate speeches; the metrics of those held-out rankings are the figures
reported (docs/counter-speech.md, "Measured").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from beffroi.analysis.counterspeech.evaluate import (
    MRR_DEPTH,
    Benchmark,
    RetrievalMetrics,
    retrieval_metrics,
)
from beffroi.analysis.counterspeech.retrieval import CounterSpeechIndex, Weights

#: The weights tried: words, character n-grams, target, specificity.
GRID: tuple[Weights, ...] = tuple(
    Weights(words=words, characters=characters, target=target, specificity=specificity)
    for words, characters, target, specificity in itertools.product(
        (0.1, 0.2, 0.3), (0.0, 0.3), (2.0, 3.0, 4.0, 5.0), (0.0, 0.5, 1.0, 1.5)
    )
)


@dataclass(frozen=True)
class CrossValidation:
    """The held-out metrics, and the weights each fold chose."""

    metrics: RetrievalMetrics
    chosen: tuple[Weights, ...]
    groups: int


def query_groups(bench: Benchmark) -> list[int]:
    """For each hate speech, its group: hate speeches sharing a relevant reply are one."""
    parent = list(range(len(bench.queries)))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    owner: dict[int, int] = {}
    for query, replies in enumerate(bench.relevant):
        for reply in replies:
            if reply in owner:
                parent[root(query)] = root(owner[reply])
            else:
                owner[reply] = query
    return [root(query) for query in range(len(bench.queries))]


def _rankings(table: NDArray[np.float64]) -> list[list[int]]:
    depth = min(MRR_DEPTH, table.shape[1])
    best = np.argpartition(-table, depth - 1, axis=1)[:, :depth]
    return [
        [int(reply) for reply in candidates[np.argsort(-table[row, candidates], kind="stable")]]
        for row, candidates in enumerate(best)
    ]


def _objective(metrics: RetrievalMetrics) -> float:
    return metrics.r_at_1 + metrics.r_at_5 + metrics.mrr + (metrics.same_target_r_at_1 or 0.0)


def cross_validate(
    index: CounterSpeechIndex,
    bench: Benchmark,
    *,
    folds: int = 5,
    grid: Sequence[Weights] = GRID,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> CrossValidation:
    """Held-out metrics of weights chosen by ``folds``-fold cross-validation over groups
    (``index`` holds the benchmark's replies, in order)."""
    if len(index.entries) != len(bench.replies):
        raise ValueError("the index must hold the benchmark's replies")
    groups = query_groups(bench)
    distinct = sorted(set(groups))
    if len(distinct) < folds:
        raise ValueError(f"{len(distinct)} groups of hate speech: fewer than {folds} folds")
    order = np.random.default_rng(seed).permutation(len(distinct))
    fold_of_group = {distinct[int(position)]: rank % folds for rank, position in enumerate(order)}
    fold = np.array([fold_of_group[group] for group in groups])
    languages = [bench.query_language] * len(bench.queries)
    rankings_by_weights: dict[Weights, list[list[int]]] = {}
    for weights, table in index.scores_by_weights(list(bench.queries), grid, languages):
        rankings_by_weights[weights] = _rankings(table)
        if progress is not None:
            progress(1)

    def metrics(rankings: list[list[int]], rows: NDArray[np.bool_]) -> RetrievalMetrics:
        kept = np.flatnonzero(rows)
        return retrieval_metrics(
            [rankings[row] for row in kept],
            [bench.relevant[row] for row in kept],
            replies=bench.replies,
            query_targets=[bench.query_targets[row] for row in kept],
        )

    held_out: list[list[int]] = [[] for _ in bench.queries]
    chosen: list[Weights] = []
    for part in range(folds):
        training = fold != part
        best = max(
            grid, key=lambda weights: _objective(metrics(rankings_by_weights[weights], training))
        )
        chosen.append(best)
        for row in np.flatnonzero(~training):
            held_out[row] = rankings_by_weights[best][row]
    return CrossValidation(
        metrics=retrieval_metrics(
            held_out, bench.relevant, replies=bench.replies, query_targets=bench.query_targets
        ),
        chosen=tuple(chosen),
        groups=len(distinct),
    )
