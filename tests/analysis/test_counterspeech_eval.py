"""``beffroi eval counter-speech``: metrics by hand, pairs and languages read from a tiny
CSV (CONAN ids included), clear errors, and the command's JSON keys."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from beffroi.analysis.counterspeech.evaluate import (
    EvaluationError,
    benchmark,
    conan_id_language,
    read_pairs,
    retrieval_metrics,
)
from beffroi.analysis.counterspeech.retrieval import CounterSpeechEntry
from beffroi.cli import main


def test_metrics_by_hand() -> None:
    replies = [
        CounterSpeechEntry("0", "a", targets=("JEWS",)),
        CounterSpeechEntry("1", "b", targets=("WOMEN",)),
        CounterSpeechEntry("2", "c", targets=("JEWS",)),
    ]
    rankings = [[0, 1, 2], [2, 1, 0], [1, 2, 0], [1, 0, 2]]
    relevant = [frozenset({0}), frozenset({1}), frozenset({0}), frozenset({2})]
    metrics = retrieval_metrics(
        rankings, relevant, replies=replies, query_targets=["JEWS", "WOMEN", "JEWS", ""]
    )
    # First relevant at ranks 1, 2, 3, 3: R@1 1/4, R@5 4/4, MRR (1 + 1/2 + 1/3 + 1/3) / 4.
    assert metrics.r_at_1 == pytest.approx(0.25)
    assert metrics.r_at_5 == pytest.approx(1.0)
    assert metrics.mrr == pytest.approx((1 + 1 / 2 + 2 / 3) / 4)
    # Targets of the first reply: JEWS=JEWS yes, JEWS≠WOMEN, WOMEN≠JEWS; the 4th has none.
    assert metrics.same_target_r_at_1 == pytest.approx(1 / 3)
    assert metrics.targeted_queries == 3
    report = metrics.as_dict()
    assert report["r_at_1"] == 0.25 and report["same_target_r_at_1"] == 0.3333


def test_a_relevant_reply_beyond_five_counts_only_in_mrr() -> None:
    metrics = retrieval_metrics([[0, 1, 2, 3, 4, 5, 6]], [frozenset({6})])
    assert (metrics.r_at_1, metrics.r_at_5) == (0.0, 0.0)
    assert metrics.mrr == pytest.approx(1 / 7)
    assert metrics.same_target_r_at_1 is None


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_distinct_hate_speeches_and_replies(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "pairs.csv",
        ["HS", "CN", "TARGET"],
        [
            ["Jews are traitors.", "Jewish citizens serve their country.", "JEWS"],
            ["Jews are traitors.", "Loyalty is not a matter of religion.", "JEWS"],
            ["Women cannot lead.", "Many women lead countries well.", "WOMEN"],
            ["Women belong at home.", "Many women lead countries well.", "WOMEN"],
            ["", "A reply without hate speech is skipped.", "WOMEN"],
        ],
    )
    bench = benchmark(read_pairs(path, "HS", "CN", target_column="TARGET"))
    assert bench.queries == ("Jews are traitors.", "Women cannot lead.", "Women belong at home.")
    assert len(bench.replies) == 3
    assert bench.relevant == (frozenset({0, 1}), frozenset({2}), frozenset({2}))
    assert bench.query_targets == ("JEWS", "WOMEN", "WOMEN")
    assert bench.replies[2].targets == ("WOMEN",)


CONAN_ROWS = [
    ["FRT1ST0001HS0017CN000002", "On ne peut pas faire confiance aux musulmans.", "Faux."],
    ["FRT1ST0001HS0017CN000002P1", "Les musulmans ne sont pas fiables.", "Faux."],
    ["FRT1ST0001HS0017CN000002T1", "We cannot trust Muslims.", "False."],
    ["FRT1ST0001HS0018CN000001", "L'islam menace la France.", "La France protège les cultes."],
    ["FRT1ST0001HS0018CN000001T1", "Islam threatens France.", "France protects all faiths."],
    ["ENT1ST0001HS0033CN000021", "Muslims segregate schools.", "The report says otherwise."],
]


def test_conan_ids_give_the_language_and_the_pair() -> None:
    assert conan_id_language("FRT1ST0001HS0017CN000002") == ("FR", "FRT1ST0001HS0017CN000002")
    assert conan_id_language("FRT1ST0001HS0017CN000002P2") == ("FR", "FRT1ST0001HS0017CN000002")
    assert conan_id_language("FRT1ST0001HS0017CN000002T1") == ("EN", "FRT1ST0001HS0017CN000002")
    assert conan_id_language("ITT1ST0001HS0001CN000001") == ("IT", "ITT1ST0001HS0001CN000001")


def test_cross_lingual_pairs_french_hate_speech_with_the_english_replies(tmp_path: Path) -> None:
    path = _write(tmp_path / "conan.csv", ["cn_id", "hateSpeech", "counterSpeech"], CONAN_ROWS)
    rows = read_pairs(path, "hateSpeech", "counterSpeech", language_from_id_column="cn_id")
    french = benchmark(rows, query_language="fr", reply_language="fr")
    assert len(french.queries) == 3 and [r.text for r in french.replies] == [
        "Faux.",
        "La France protège les cultes.",
    ]
    across = benchmark(rows, query_language="FR", reply_language="EN")
    # English replies: the two T1 translations, not the English original's reply.
    assert [reply.text for reply in across.replies] == [
        "False.",
        "France protects all faiths.",
    ]
    assert len(benchmark(rows, query_language="EN", reply_language="EN").replies) == 3
    assert across.queries[0] == "On ne peut pas faire confiance aux musulmans."
    assert across.relevant == (frozenset({0}), frozenset({0}), frozenset({1}))
    with pytest.raises(EvaluationError, match="no row in language 'DE'"):
        benchmark(rows, query_language="DE")


def test_a_language_column_pairs_rows_with_themselves(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "pairs.csv",
        ["hs", "cn", "lang"],
        [["Les migrants volent.", "Faux.", "fr"], ["Migrants steal.", "False.", "en"]],
    )
    rows = read_pairs(path, "hs", "cn", language_column="lang")
    assert benchmark(rows, query_language="fr", reply_language="fr").queries == (
        "Les migrants volent.",
    )
    with pytest.raises(EvaluationError, match="no hate speech in 'fr' has a reply in 'en'"):
        benchmark(rows, query_language="fr", reply_language="en")


def test_reading_errors(tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="cannot read"):
        read_pairs(tmp_path / "missing.csv", "HS", "CN")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(EvaluationError, match="is empty"):
        read_pairs(empty, "HS", "CN")
    path = _write(tmp_path / "pairs.csv", ["HS", "CN"], [["", "reply"]])
    with pytest.raises(EvaluationError, match="no column 'TARGET' \\(columns: 'HS', 'CN'\\)"):
        read_pairs(path, "HS", "CN", target_column="TARGET")
    with pytest.raises(EvaluationError, match="no row has both a hate speech and a reply"):
        read_pairs(path, "HS", "CN")


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["eval", "counter-speech", *args])
    return result.exit_code, result.output


def test_eval_counter_speech_command(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "pairs.csv",
        ["HS", "CN", "TARGET"],
        [
            ["Migrants steal our jobs.", "Migrants create jobs and pay taxes.", "MIGRANTS"],
            ["Women are bad drivers.", "Women have fewer accidents than men.", "WOMEN"],
            ["Jews control the banks.", "Banks are run by people of every faith.", "JEWS"],
        ],
    )
    code, output = _invoke(
        "--input", str(path), "--hate-column", "HS", "--reply-column", "CN",
        "--target-column", "TARGET", "--words-only", "--json",
    )  # fmt: skip
    assert code == 0, output
    report = json.loads(output[output.index("{") :])
    assert {"r_at_1", "r_at_5", "mrr", "same_target_r_at_1"} <= report.keys()
    assert report["queries"] == 3 and report["replies"] == 3
    assert report["r_at_1"] == 1.0 and report["r_at_5"] == 1.0 and report["mrr"] == 1.0
    assert report["same_target_r_at_1"] == 1.0 and report["meaning"] is False


def test_eval_counter_speech_errors(tmp_path: Path) -> None:
    path = _write(tmp_path / "conan.csv", ["cn_id", "hateSpeech", "counterSpeech"], CONAN_ROWS)
    base = ["--input", str(path), "--hate-column", "hateSpeech", "--reply-column"]
    code, output = _invoke(*base, "counterSpeech", "--language-from-id-column", "cn_id",
                           "--query-language", "DE", "--words-only")  # fmt: skip
    assert code == 1 and "no row in language 'DE'" in output
    code, output = _invoke(*base, "reply", "--words-only")
    assert code == 1 and "no column 'reply'" in output
    code, output = _invoke(*base, "counterSpeech", "--query-language", "FR")
    assert code == 2 and "need --language-column or --language-from-id-column" in output
    code, output = _invoke(
        "--input", str(tmp_path / "missing.csv"), "--hate-column", "a", "--reply-column", "b"
    )
    assert code == 1 and "cannot read" in output


def test_cross_validation_keeps_groups_in_one_fold_and_measures_held_out_rankings() -> None:
    import numpy as np

    from beffroi.analysis.counterspeech.evaluate import Benchmark
    from beffroi.analysis.counterspeech.retrieval import CounterSpeechIndex, Weights
    from beffroi.analysis.counterspeech.tuning import cross_validate, query_groups

    topics = ["water", "bins", "roads", "schools", "market", "library"]
    axes = {topic: axis for axis, topic in enumerate(topics)}

    def embed(texts: list[str]) -> np.ndarray:
        vectors = np.full((len(texts), len(axes) + 1), 0.01, dtype=np.float32)
        for row, text in enumerate(texts):
            for word, axis in axes.items():
                vectors[row, axis] += text.lower().count(word)
        return vectors

    replies = tuple(
        CounterSpeechEntry(str(i), f"the {topic} are fine, here are the facts")
        for i, topic in enumerate(topics)
    )
    # Each topic has a post and its paraphrase: the two share their reply, so one group.
    queries = tuple(
        text for topic in topics for text in (f"the {topic} are a scandal", f"{topic}: a scandal")
    )
    bench = Benchmark(
        queries=queries,
        query_targets=("",) * len(queries),
        query_language=None,
        replies=replies,
        relevant=tuple(frozenset({i}) for i in range(len(topics)) for _twice in range(2)),
    )
    groups = query_groups(bench)
    assert len(set(groups)) == len(topics)
    assert all(groups[2 * i] == groups[2 * i + 1] for i in range(len(topics)))
    index = CounterSpeechIndex(replies, embedder=embed, background=())
    grid = (Weights(words=0.1), Weights(words=0.3))
    result = cross_validate(index, bench, folds=3, grid=grid)
    assert result.groups == len(topics) and len(result.chosen) == 3
    assert set(result.chosen) <= set(grid)
    assert result.metrics.queries == len(queries)
    assert result.metrics.r_at_1 == 1.0  # each post's meaning names its reply's topic
    with pytest.raises(ValueError, match="fewer than 7 folds"):
        cross_validate(index, bench, folds=7, grid=grid)


def test_the_command_cross_validates(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "pairs.csv",
        ["HS", "CN"],
        [["Migrants steal our jobs.", "Migrants create jobs."], ["Women drive badly.", "No."]],
    )
    code, output = _invoke(
        "--input", str(path), "--hate-column", "HS", "--reply-column", "CN",
        "--words-only", "--cross-validate", "2",
    )  # fmt: skip
    assert code == 2 and "not with --words-only" in output
