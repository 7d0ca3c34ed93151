"""Claim retrieval: metrics computed by hand, matching across languages with the real
sentence encoder, the ``beffroi eval claims`` command and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from beffroi.analysis.claims.evaluate import ClaimsEvaluationError, ranking_metrics, read_qrels
from beffroi.analysis.claims.retrieval import Claim, ClaimIndex, clean_query
from beffroi.cli import main

CLAIMS = [
    Claim("1", "The town hall will close the swimming pool for good in June.", "Pool closure"),
    Claim("2", "Tap water in the town is contaminated with lead.", "Is tap water poisoned?"),
    Claim("3", "The mayor bought a villa with the school budget.", "Mayor villa rumour"),
    Claim("4", "A 5G antenna on the church causes headaches.", "5G antenna and headaches"),
]


def test_ranking_metrics_by_hand() -> None:
    rankings = [["a", "b", "c"], ["x", "y", "b"], ["x", "y", "z"]]
    relevant = [{"a"}, {"b", "q"}, {"w"}]
    metrics = ranking_metrics(rankings, relevant, k=5)
    # AP: 1/1; (1/3)/2; 0. Recall: 1; 1/2; 0. P@1: 1, 0, 0. RR: 1, 1/3, 0.
    assert metrics.map_at_k == pytest.approx((1 + 1 / 6 + 0) / 3)
    assert metrics.recall_at_k == pytest.approx((1 + 0.5 + 0) / 3)
    assert metrics.precision_at_1 == pytest.approx(1 / 3)
    assert metrics.mrr == pytest.approx((1 + 1 / 3) / 3)
    assert metrics.as_dict()["map_at_5"] == round((1 + 1 / 6) / 3, 4)


def test_query_cleaning_drops_links_and_the_tweet_signature() -> None:
    text = (
        "Lead in the water again! pic.twitter.com/AbC123 https://t.co/x — Jo (@jo) January 6, 2020"
    )
    assert clean_query(text) == "Lead in the water again!"


def test_words_only_finds_the_obvious_claim() -> None:
    index = ClaimIndex(CLAIMS, use_meaning=False)
    results = index.search(["they say the swimming pool closes in June", "lead in tap water"], k=2)
    assert results[0][0].claim_id == "1"
    assert results[1][0].claim_id == "2"
    assert [match.rank for match in results[0]] == [1, 2]
    assert results[0][0].score > results[0][1].score


def test_meaning_matches_across_languages() -> None:
    index = ClaimIndex(CLAIMS)
    french = [
        "Le maire s'est acheté une villa avec l'argent des écoles !",
        "L'antenne 5G sur l'église donne mal à la tête aux habitants",
    ]
    results = index.search(french, k=1)
    assert results[0][0].claim_id == "3"
    assert results[1][0].claim_id == "4"


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one claim"):
        ClaimIndex([])
    with pytest.raises(ValueError, match="lexical_share"):
        ClaimIndex(CLAIMS, lexical_share=2.0, use_meaning=False)
    with pytest.raises(ValueError, match="k must"):
        ClaimIndex(CLAIMS, use_meaning=False).search(["x"], k=0)


def _write_clef(tmp_path: Path) -> dict[str, Path]:
    claims = tmp_path / "claims.tsv"
    lines = ["\tvclaim\ttitle"] + [f'{c.id}\t"{c.text}"\t{c.title}' for c in CLAIMS]
    claims.write_text("\n".join(lines) + "\n", encoding="utf-8")
    queries = tmp_path / "queries.tsv"
    queries.write_text(
        "tweet_id\ttweet_content\n"
        "q1\tThe pool is closing for good in June? https://t.co/abc\n"
        "q2\tWhy is there lead in our tap water\n"
        "q3\tNothing to see here\n",
        encoding="utf-8",
    )
    qrels = tmp_path / "dev.qrels"
    qrels.write_text("q1\t0\t1\t1\nq2\t0\t2\t1\n", encoding="utf-8")
    return {"claims": claims, "queries": queries, "qrels": qrels}


def _eval(paths: dict[str, Path], *extra: str) -> tuple[int, str]:
    args = ["eval", "claims", "--claims", str(paths["claims"]), "--queries"]
    args += [str(paths["queries"]), "--qrels", str(paths["qrels"]), *extra]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def test_eval_claims_command(tmp_path: Path) -> None:
    code, output = _eval(_write_clef(tmp_path), "--words-only", "--json")
    assert code == 0, output
    report = json.loads(output[output.index("{") :])
    assert report["claims"] == 4 and report["queries"] == 2
    assert report["map_at_5"] == 1.0 and report["recall_at_5"] == 1.0 and report["mrr"] == 1.0
    assert report["queries_without_relevant_claim"] == 1
    assert report["queries_per_second"] > 0


def test_eval_claims_bad_files(tmp_path: Path) -> None:
    paths = _write_clef(tmp_path)
    paths["qrels"].write_text("q1 0 1\n", encoding="utf-8")
    code, output = _eval(paths, "--words-only")
    assert code == 1 and "line 1: expected 'query_id 0 claim_id relevance'" in output
    paths = _write_clef(tmp_path)
    paths["claims"].write_text("\tvclaim\ttitle\n1\tA\t\n1\tB\t\n", encoding="utf-8")
    code, output = _eval(paths, "--words-only")
    assert code == 1 and "claim id '1' is used twice" in output
    paths["claims"].write_text("", encoding="utf-8")
    code, output = _eval(paths)
    assert code == 1 and "is empty" in output


def test_qrels_with_only_irrelevant_pairs(tmp_path: Path) -> None:
    qrels = tmp_path / "q.qrels"
    qrels.write_text("q1 0 1 0\n", encoding="utf-8")
    with pytest.raises(ClaimsEvaluationError, match="no relevant pair"):
        read_qrels(qrels)


def test_calibration_finds_a_translation_the_raw_cosine_ties_with_the_towns_name() -> None:
    """Every French post names the town, as the claim does: its raw cosine with the claim is
    as high as the Arabic repetition's. Calibrated against ordinary posts of each language,
    the French post is ordinary and the Arabic one far above the Arabic posts."""
    import zlib

    import numpy as np

    dims = {"town": 0, "water": 1, "ماء": 1}

    def toy(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 300), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                if word in dims:
                    out[row, dims[word]] += 1.0
            out[row, 4 + zlib.crc32(text.encode()) % 290] += 0.2
        return out

    index = ClaimIndex([Claim("w", "town water contaminated")], embedder=toy)
    background = [f"town news number {n}" for n in range(40)] + [
        f"خبر عادي رقم {n}" for n in range(30)
    ]
    languages = ["fr"] * 40 + ["ar"] * 30
    assert index.calibrate(background[:10], languages[:10]) is None  # too few to compare
    calibration = index.calibrate(background, languages)
    assert calibration is not None and calibration.counts == {"": 70, "fr": 40, "ar": 30}
    queries = ["town news again today", "الحنفية ماء ملوث"]
    raw = index.similarity(queries)[:, 0]
    assert raw[0] == pytest.approx(raw[1], abs=0.05)
    fr, ar = index.calibrated(queries, ["fr", "ar"], calibration)[:, 0]
    assert fr < 1.0 < 3.0 < ar
    # A language without enough posts of its own is compared with all of them (mostly
    # French posts naming the town): there the same post is ordinary. Per language is what
    # finds it.
    (other,) = index.calibrated(["الحنفية ماء ملوث"], ["ur"], calibration)[:, 0]
    assert other < 1.0 < 3.0 < ar


def test_one_batch_is_embedded_once_for_ranking_similarity_and_evidence() -> None:
    import numpy as np

    calls: list[int] = []

    def counting(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return np.ones((len(texts), 4), dtype=np.float32)

    index = ClaimIndex([Claim("a", "one claim"), Claim("b", "another claim")], embedder=counting)
    calls.clear()  # the library's own three views
    queries = ["a post", "another post"]
    index.search(queries, k=1)
    index.similarity(queries)
    index.evidence(queries)
    assert calls == [2]
    index.similarity(["a third post"])
    assert calls == [2, 1]
