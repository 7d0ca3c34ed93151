"""Synthetic benchmark of :mod:`beffroi.analysis.coordination`.

Background posts (random sentences over a Zipf-distributed pseudo-French vocabulary, random
accounts, times over a week, a third carrying a link, some links popular) are mixed with
injected campaigns of known members:

- **copies**: the same text by 3-15 accounts over up to two days, with case, punctuation,
  hashtag, mention and tracking-link variations that normalisation must absorb;
- **rewordings**: a text reworded by each of 3-15 accounts (1-3 edits: a word replaced,
  inserted or two words swapped);
- **co-link bursts**: 3-10 accounts posting the same link (with varying ``utm_*`` parameters)
  within 50 seconds, each with its own text.

Reports, per family (text: copy + reworded + copost campaigns; link: colink campaigns),
post-level precision and recall, the share of injected campaigns recovered (80% of their
posts in one detected campaign) and the seconds spent detecting.

``python -m beffroi.analysis.coordination_bench --items 100000``
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from beffroi.analysis.coordination import Campaign, Post, detect_coordination

__all__ = ["SyntheticCorpus", "evaluate", "main", "synthetic_corpus"]

_SYLLABLES = (
    "ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo la le li lo lu ma me mi mo mu "
    "na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo "
    "ment tion eur ique ois ain elle ette"
).split()
_START = datetime(2026, 3, 1, tzinfo=UTC)
_WEEK = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class SyntheticCorpus:
    """Posts and the ground truth: post id -> (family, campaign number)."""

    posts: list[Post]
    truth: dict[str, tuple[str, int]]
    campaigns: dict[tuple[str, int], set[str]]


def _vocabulary(rng: np.random.Generator, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        n = int(rng.integers(1, 4))
        words.add("".join(_SYLLABLES[int(i)] for i in rng.integers(0, len(_SYLLABLES), n)))
    ordered = sorted(words)
    return [ordered[int(i)] for i in rng.permutation(len(ordered))]


def synthetic_corpus(items: int, *, seed: int = 0, campaign_share: float = 0.02) -> SyntheticCorpus:
    """About ``items`` posts, ``campaign_share`` of them in injected campaigns."""
    rng = np.random.default_rng(seed)
    vocab = _vocabulary(rng, 20_000)
    weights = 1.0 / np.arange(1, len(vocab) + 1) ** 1.05
    weights /= weights.sum()
    n_accounts = max(50, items // 8)

    def sentence(lo: int = 8, hi: int = 30) -> list[str]:
        n = int(rng.integers(lo, hi))
        return [vocab[int(i)] for i in rng.choice(len(vocab), size=n, p=weights)]

    posts: list[Post] = []
    truth: dict[str, tuple[str, int]] = {}
    campaigns: dict[tuple[str, int], set[str]] = {}

    def add(
        account: int,
        text: str,
        at: float,
        urls: tuple[str, ...] = (),
        label: tuple[str, int] | None = None,
    ) -> None:
        pid = f"p{len(posts)}"
        posts.append(Post(pid, f"acc{account}", text, _START + timedelta(seconds=at), urls))
        if label is not None:
            truth[pid] = label
            campaigns.setdefault(label, set()).add(pid)

    n_injected = int(items * campaign_share)
    per_family = n_injected // 3
    # background: bulk-generate word indices for speed
    n_background = items - n_injected
    lengths = rng.integers(6, 30, n_background)
    words = rng.choice(len(vocab), size=int(lengths.sum()), p=weights)
    cuts = np.cumsum(lengths)[:-1]
    accounts = rng.integers(0, n_accounts, n_background)
    times = rng.uniform(0, _WEEK, n_background)
    has_url = rng.random(n_background) < 0.3
    popular = rng.random(n_background) < 0.05
    url_ids = np.where(
        popular,
        rng.integers(0, 200, n_background),
        rng.integers(0, max(1, items // 3), n_background),
    )
    for k, chunk in enumerate(np.split(words, cuts)):
        text = " ".join(vocab[int(w)] for w in chunk)
        urls: tuple[str, ...] = ()
        if has_url[k]:
            urls = (f"https://news{int(url_ids[k]) % 50}.example/a/{int(url_ids[k])}",)
        add(int(accounts[k]), text, float(times[k]), urls)

    def variant(text: str) -> str:
        roll = rng.random()
        if roll < 0.25:
            return text.upper()
        if roll < 0.5:
            return text + " !!"
        if roll < 0.7:
            return f"@acc{int(rng.integers(0, n_accounts))} " + text
        if roll < 0.85:
            return "#" + text + " https://t.example/x?utm_source=" + str(int(rng.integers(0, 99)))
        return text.capitalize() + "."

    def reword(tokens: list[str]) -> str:
        out = list(tokens)
        for _ in range(int(rng.integers(1, 4))):
            op = rng.random()
            pos = int(rng.integers(0, len(out)))
            if op < 0.4:
                out[pos] = vocab[int(rng.choice(len(vocab), p=weights))]
            elif op < 0.7:
                out.insert(pos, vocab[int(rng.choice(len(vocab), p=weights))])
            elif pos + 1 < len(out):
                out[pos], out[pos + 1] = out[pos + 1], out[pos]
        return " ".join(out)

    def members(hi: int) -> list[int]:
        k = int(rng.integers(3, hi + 1))
        return [int(a) for a in rng.choice(n_accounts, size=k, replace=False)]

    count, number = 0, 0
    while count < per_family:  # copies
        tokens = sentence(12, 30)
        start, spread = rng.uniform(0, _WEEK), rng.uniform(60, 48 * 3600)
        for acc in members(15):
            add(
                acc,
                variant(" ".join(tokens)),
                start + rng.uniform(0, spread),
                label=("text", number),
            )
            count += 1
        number += 1
    count = 0
    while count < per_family:  # rewordings
        tokens = sentence(12, 30)
        start, spread = rng.uniform(0, _WEEK), rng.uniform(60, 48 * 3600)
        for acc in members(15):
            add(acc, reword(tokens), start + rng.uniform(0, spread), label=("text", number))
            count += 1
        number += 1
    count, burst = 0, 0
    while count < per_family:  # co-link bursts
        url = f"https://campaign{burst}.example/article/{burst}/"
        start = rng.uniform(0, _WEEK)
        for acc in members(10):
            tagged = f"{url}?utm_source=s{int(rng.integers(0, 9))}&utm_medium=social"
            add(acc, " ".join(sentence()), start + rng.uniform(0, 50), (tagged,), ("link", burst))
            count += 1
        burst += 1
    order = rng.permutation(len(posts))
    return SyntheticCorpus([posts[int(i)] for i in order], truth, campaigns)


_FAMILY = {"copy": "text", "reworded": "text", "copost": "text", "colink": "link"}


def evaluate(corpus: SyntheticCorpus, found: list[Campaign]) -> dict[str, dict[str, float]]:
    """Post-level precision/recall and campaign recovery per family."""
    report: dict[str, dict[str, float]] = {}
    for family in ("text", "link"):
        predicted: set[str] = set()
        detected = [c for c in found if _FAMILY[c.kind] == family]
        for c in detected:
            predicted.update(c.post_ids)
        actual = {pid for pid, (fam, _) in corpus.truth.items() if fam == family}
        tp = len(predicted & actual)
        sets = [set(c.post_ids) for c in detected]
        injected = [ids for (fam, _), ids in corpus.campaigns.items() if fam == family]
        recovered = sum(1 for ids in injected if any(len(ids & s) >= 0.8 * len(ids) for s in sets))
        report[family] = {
            "precision": tp / len(predicted) if predicted else 1.0,
            "recall": tp / len(actual) if actual else 1.0,
            "campaigns_recovered": recovered / len(injected) if injected else 1.0,
            "detected_campaigns": float(len(detected)),
            "injected_campaigns": float(len(injected)),
        }
    return report


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threshold", type=float, default=0.65)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    corpus = synthetic_corpus(args.items, seed=args.seed)
    t1 = time.perf_counter()
    found = detect_coordination(corpus.posts, threshold=args.threshold, n_jobs=args.n_jobs)
    t2 = time.perf_counter()
    print(f"posts: {len(corpus.posts)}  generated in {t1 - t0:.1f} s  detected in {t2 - t1:.1f} s")
    for family, row in evaluate(corpus, found).items():
        print(
            f"{family:5s} precision {row['precision']:.3f}  recall {row['recall']:.3f}  "
            f"campaigns recovered {row['campaigns_recovered']:.3f}  "
            f"({int(row['detected_campaigns'])} detected / {int(row['injected_campaigns'])} injected)"
        )


if __name__ == "__main__":
    main()
