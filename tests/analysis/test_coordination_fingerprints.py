"""Fingerprints computed once per post, stored, and fed back to the detector."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from beffroi.analysis.coordination import (
    Fingerprint,
    Post,
    detect_coordination,
    detect_coordination_fingerprinted,
    fingerprint,
)
from beffroi.analysis.coordination_bench import synthetic_corpus

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _stored_and_read_back(prints: Sequence[Fingerprint]) -> list[Fingerprint]:
    """As a database gives them back: signatures as memory, URLs as lists (JSON)."""
    return [
        replace(
            fp,
            signature=bytes(memoryview(fp.signature)),
            urls=tuple(json.loads(json.dumps(list(fp.urls)))),
        )
        for fp in prints
    ]


def test_fingerprints_made_in_batches_detect_what_the_posts_do() -> None:
    corpus = synthetic_corpus(6000, seed=3, campaign_share=0.05, translation_campaigns=0)
    posts = corpus.posts
    expected = detect_coordination(posts, window=120)
    assert {c.kind for c in expected} == {"copy", "reworded", "colink"}
    # Fingerprinted in three batches of uneven size, as scans would, then read back.
    cuts = (0, 1234, 4000, len(posts))
    prints = [fp for a, b in itertools.pairwise(cuts) for fp in fingerprint(posts[a:b])]
    text_of = {p.id: p.text for p in posts}
    asked: list[str] = []

    def originals(ids: Sequence[str]) -> list[str]:
        asked.extend(ids)
        return [text_of[i] for i in ids]

    found = detect_coordination_fingerprinted(_stored_and_read_back(prints), originals, window=120)
    assert found == expected
    assert [c.edges for c in found] == [c.edges for c in expected]
    # Texts are read back only for what the campaigns show (at most five per text campaign
    # plus the network's keys), not for the 6,000 posts.
    assert 0 < len(asked) <= 5 * len(expected)


def test_involving_keeps_the_campaigns_of_those_posts_and_reads_only_their_texts() -> None:
    corpus = synthetic_corpus(3000, seed=5, campaign_share=0.05, translation_campaigns=0)
    everything = detect_coordination(corpus.posts, window=120)
    chosen = {everything[0].post_ids[-1], everything[-1].post_ids[0]}
    text_of = {p.id: p.text for p in corpus.posts}
    asked: list[str] = []

    def originals(ids: Sequence[str]) -> list[str]:
        asked.extend(ids)
        return [text_of[i] for i in ids]

    found = detect_coordination_fingerprinted(
        fingerprint(corpus.posts), originals, window=120, involving=chosen
    )
    assert found == [c for c in everything if chosen & set(c.post_ids)]
    assert len(found) >= 2
    shown = {pid for c in found for pid in c.post_ids}
    assert set(asked) <= shown


def test_a_short_text_has_no_key_and_links_are_normalised_and_sorted() -> None:
    long = "La mairie a encore augmenté les impôts locaux sans consulter personne"
    prints = fingerprint(
        [
            Post("1", "a", "+1 !", T0),
            Post(
                "2",
                "b",
                f"{long} https://www.Example.org/x?utm_source=tw",
                T0,
                ("https://b.example/y/",),
            ),
            Post("3", "c", long.upper(), T0 + timedelta(seconds=5)),
        ]
    )
    assert prints[0].text_key is None and prints[0].signature == b""
    assert prints[1].text_key == prints[2].text_key is not None
    assert len(prints[1].signature) == 64 * 4
    assert prints[1].urls == ("https://b.example/y", "https://example.org/x")
    with pytest.raises(ValueError, match="signatures"):
        detect_coordination_fingerprinted(
            [
                replace(fp, signature=b"")
                for fp in [*prints, *fingerprint([Post("4", "d", long[::-1], T0)])]
            ],
            lambda ids: ["" for _ in ids],
        )


_CHILD = """
import json, sys
from datetime import UTC, datetime
from beffroi.analysis.coordination import Post, fingerprint
posts = [Post(str(i), "a", text, datetime(2026, 3, 1, tzinfo=UTC), (url,))
         for i, (text, url) in enumerate(json.loads(sys.argv[1]))]
print(json.dumps([[fp.text_key, fp.signature.hex(), list(fp.urls)] for fp in fingerprint(posts)]))
"""


def test_fingerprints_are_the_same_in_another_process() -> None:
    samples = [
        (
            "Signez la pétition contre la fermeture de la piscine municipale !",
            "https://x.org/?b=1&a=2",
        ),
        ("صوّت المجلس البلدي سرًا على رفع ضريبة العقارات ولم تتم استشارة أحد", "www.y.fr/z/"),
    ]
    here = [
        [fp.text_key, fp.signature.hex(), list(fp.urls)]
        for fp in fingerprint(
            [
                Post(str(i), "a", t, datetime(2026, 3, 1, tzinfo=UTC), (u,))
                for i, (t, u) in enumerate(samples)
            ]
        )
    ]
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(samples)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out) == here
