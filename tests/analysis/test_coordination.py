"""Coordinated behaviour: copy-pasta, rewordings, co-link and co-post networks, exports."""

from __future__ import annotations

import csv
import io
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from beffroi.analysis import d3lta_runner
from beffroi.analysis.coordination import (
    Campaign,
    Post,
    campaigns_to_csv,
    colink_network,
    coordination_graph,
    copost_network,
    detect_coordination,
    find_copypasta,
    minhash_signatures,
    normalize_text,
    normalize_url,
    to_graphml,
)
from beffroi.analysis.coordination_bench import (
    evaluate,
    pairwise_scores,
    synthetic_corpus,
    translation_subset,
)
from beffroi.analysis.coordination_compare import (
    D3LTA_RUNNER,
    read_d3lta_output,
    text_to_embed,
    write_d3lta_input,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MESSAGE = (
    "La mairie a encore augmenté les impôts locaux sans consulter personne, "
    "partagez avant que ce soit supprimé"
)
UNRELATED = [
    "Le marché de Noël ouvre samedi sur la place de la République avec trente exposants",
    "Travaux rue Victor Hugo : la circulation sera alternée jusqu'au 15 décembre",
    "Bravo aux bénévoles du club de foot pour le tournoi des jeunes de dimanche dernier",
    "La médiathèque prolonge ses horaires le mercredi soir pendant les vacances scolaires",
    "Quelqu'un sait si la piscine municipale est ouverte le lundi de Pâques cette année ?",
    "Concert de la chorale à l'église Saint-Pierre vendredi à vingt heures, entrée libre",
]


def post(pid: str, account: str, text: str, seconds: float = 0, urls: tuple[str, ...] = ()) -> Post:
    return Post(pid, account, text, T0 + timedelta(seconds=seconds), urls)


def test_normalize_text_strips_urls_mentions_hashtags_and_punctuation() -> None:
    raw = "@Maire_Ville REGARDEZ ça !!! #Scandale https://t.co/abc?x=1   ﬁn"
    assert normalize_text(raw) == "regardez ça scandale fin"


def test_normalize_url_drops_tracking_and_case() -> None:
    a = normalize_url("https://WWW.Example.org/article/42/?utm_source=fb&utm_medium=x&id=7")
    b = normalize_url("http://example.org/article/42?id=7&fbclid=XYZ#top")
    assert a == b == "https://example.org/article/42?id=7"
    assert normalize_url("example.org/a?b=2&a=1") == "https://example.org/a?a=1&b=2"


def test_exact_copies_by_distinct_accounts_form_one_campaign() -> None:
    posts = [
        post("1", "alice", MESSAGE, 0),
        post("2", "bob", MESSAGE.upper() + " !!", 3600),
        post("3", "carol", "#" + MESSAGE + " https://x.example/?utm_source=t", 7200),
        post("4", "dave", UNRELATED[0], 10),
    ]
    found = find_copypasta(posts)
    assert len(found) == 1
    campaign = found[0]
    assert campaign.kind == "copy"
    assert campaign.accounts == ("alice", "bob", "carol")
    assert campaign.post_ids == ("1", "2", "3")
    assert campaign.shared == (MESSAGE,)
    assert campaign.first_seen == T0
    assert campaign.last_seen == T0 + timedelta(hours=2)
    assert campaign.size == 3


def test_one_account_repeating_itself_is_not_a_campaign() -> None:
    posts = [post(str(i), "alice", MESSAGE, i * 10) for i in range(3)]
    assert find_copypasta(posts) == []
    assert detect_coordination(posts) == []


def test_two_accounts_are_below_the_default_minimum() -> None:
    posts = [post("1", "alice", MESSAGE), post("2", "bob", MESSAGE)]
    assert find_copypasta(posts) == []
    assert len(find_copypasta(posts, min_accounts=2)) == 1


def test_short_common_texts_are_ignored() -> None:
    posts = [post(str(i), f"user{i}", "Merci beaucoup !") for i in range(10)]
    assert find_copypasta(posts) == []


def test_rewordings_join_one_campaign() -> None:
    variants = [
        MESSAGE,
        MESSAGE.replace("encore augmenté", "encore relevé"),
        MESSAGE.replace("sans consulter personne", "sans consulter les habitants"),
        MESSAGE.replace("partagez avant", "partagez vite avant"),
        MESSAGE.replace("impôts locaux", "locaux impôts"),
    ]
    posts = [post(str(i), f"user{i}", text, i * 60) for i, text in enumerate(variants)]
    posts += [post(f"u{i}", f"other{i}", text) for i, text in enumerate(UNRELATED)]
    found = find_copypasta(posts)
    assert len(found) == 1
    assert found[0].kind == "reworded"
    assert set(found[0].post_ids) == {"0", "1", "2", "3", "4"}
    assert 0.6 * 5 <= found[0].score <= 5


def test_unrelated_texts_do_not_join() -> None:
    posts = [post(str(i), f"user{i}", text) for i, text in enumerate(UNRELATED)]
    assert find_copypasta(posts, min_accounts=2) == []


def test_minhash_is_stable_and_estimates_similarity() -> None:
    sig = minhash_signatures([MESSAGE, MESSAGE, UNRELATED[0]], num_perm=128)
    again = minhash_signatures([MESSAGE], num_perm=128)
    assert (sig[0] == again[0]).all()
    assert (sig[0] == sig[1]).mean() == 1.0
    assert (sig[0] == sig[2]).mean() < 0.1


def test_colink_within_window_links_accounts() -> None:
    url = "https://blog.example/fake-news"
    posts = [
        post("1", "alice", "lisez ça", 0, (url,)),
        post("2", "bob", "incroyable", 20, (url + "?utm_source=twitter",)),
        post("3", "carol", "à partager " + url + "/?fbclid=abc", 45),
        post("4", "dave", "vu aussi", 4000, (url,)),  # outside the window
    ]
    found = colink_network(posts)
    assert len(found) == 1
    campaign = found[0]
    assert campaign.kind == "colink"
    assert campaign.accounts == ("alice", "bob", "carol")
    assert campaign.post_ids == ("1", "2", "3")
    assert campaign.shared == ("https://blog.example/fake-news",)
    assert campaign.score == 3.0  # three co-actions: alice-bob, alice-carol, bob-carol


def test_colink_outside_window_does_not_link() -> None:
    url = "https://blog.example/fake-news"
    posts = [post(str(i), f"user{i}", "lien", i * 120, (url,)) for i in range(5)]
    assert colink_network(posts) == []
    assert len(colink_network(posts, window=timedelta(minutes=10))) == 1


def test_copost_network_and_weights() -> None:
    posts = [post(str(i), f"user{i % 3}", MESSAGE, i * 5) for i in range(6)]
    found = copost_network(posts)
    assert len(found) == 1
    campaign = found[0]
    assert campaign.kind == "copost"
    assert campaign.accounts == ("user0", "user1", "user2")
    weights = {(a, b): w for a, b, w in campaign.edges}
    # posts 0..5 every 5 s, all within 60 s; same-account pairs (0,3),(1,4),(2,5) don't count
    assert sum(weights.values()) == 15 - 3


def test_detect_coordination_combines_kinds() -> None:
    url = "https://petition.example/x"
    posts = [post(str(i), f"user{i}", MESSAGE, i * 10, (url,)) for i in range(4)]
    kinds = {c.kind for c in detect_coordination(posts)}
    assert kinds == {"copy", "colink", "copost"}
    only = detect_coordination(posts, kinds=["colink"])
    assert [c.kind for c in only] == ["colink"]


def test_naive_datetime_is_rejected() -> None:
    bad = Post("1", "alice", MESSAGE, datetime(2026, 3, 1, 12, 0))
    with pytest.raises(ValueError, match="time-zone aware"):
        detect_coordination([bad])
    with pytest.raises(ValueError, match="unknown kinds"):
        detect_coordination([], kinds=["nope"])  # type: ignore[list-item]


def _campaigns() -> list[Campaign]:
    url = "https://blog.example/fake-news"
    posts = [
        post("1", "alice", "lisez", 0, (url,)),
        post("2", "bob", "lisez aussi", 10, (url,)),
        post("3", "carol", "à lire", 20, (url,)),
        post("4", "alice", "encore", 30, (url,)),
    ]
    posts += [
        post(f"c{i}", acc, MESSAGE, 5000 + i * 3600) for i, acc in enumerate(["bob", "dave", "eve"])
    ]
    return detect_coordination(posts)


def test_graphml_export_parses_back(tmp_path: Path) -> None:
    campaigns = _campaigns()
    path = tmp_path / "coordination.graphml"
    to_graphml(campaigns, path)
    graph = nx.read_graphml(path)
    assert set(graph.nodes) == {"alice", "bob", "carol", "dave", "eve"}
    # co-link: alice posted twice, so alice-bob and alice-carol have two co-actions each
    assert graph["alice"]["bob"]["weight"] == 2
    assert graph["alice"]["carol"]["weight"] == 2
    assert graph["bob"]["carol"]["weight"] == 1
    # copy campaign bob/dave/eve: a clique of weight 1 (bob-dave also shares nothing else)
    assert graph["bob"]["dave"]["weight"] == 1
    assert graph.number_of_edges() == 6
    assert graph.nodes["bob"]["kinds"] == "colink,copy"
    assert graph.nodes["bob"]["campaigns"] == 2
    # a ready graph is accepted too
    to_graphml(coordination_graph(campaigns), tmp_path / "again.graphml")
    assert nx.read_graphml(tmp_path / "again.graphml").number_of_edges() == 6


def test_csv_export_has_header_and_rows(tmp_path: Path) -> None:
    campaigns = _campaigns()
    buffer = io.StringIO()
    campaigns_to_csv(campaigns, buffer)
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert len(rows) == len(campaigns) == 2
    assert set(rows[0]) >= {"kind", "size", "score", "accounts", "post_ids", "shared"}
    assert {r["kind"] for r in rows} == {"colink", "copy"}
    copy = next(r for r in rows if r["kind"] == "copy")
    assert copy["accounts"] == "bob | dave | eve"
    campaigns_to_csv(campaigns, tmp_path / "c.csv")
    assert (tmp_path / "c.csv").read_text(encoding="utf-8").startswith("kind,size,score")


def test_synthetic_benchmark_small() -> None:
    corpus = synthetic_corpus(6000, seed=3, campaign_share=0.05)
    report = evaluate(corpus, detect_coordination(corpus.posts))
    assert report["text"]["precision"] >= 0.9
    assert report["text"]["recall"] >= 0.9
    assert report["link"]["precision"] >= 0.9
    assert report["link"]["recall"] >= 0.95


def test_translations_join_only_with_the_flag() -> None:
    texts = [
        MESSAGE,
        "The town hall raised local taxes again without consulting anyone, share before it "
        "gets deleted",
        "El ayuntamiento volvió a subir los impuestos locales sin consultar a nadie, compartid "
        "antes de que lo borren",
        "La mairie a augmenté les tarifs de la cantine scolaire, consultez le site pour les détails",
        *UNRELATED,
    ]
    posts = [post(str(i), f"user{i}", text, i) for i, text in enumerate(texts)]
    assert find_copypasta(posts) == []
    found = find_copypasta(posts, translations=True)
    assert len(found) == 1
    assert found[0].kind == "reworded"
    assert set(found[0].post_ids) == {"0", "1", "2"}


def test_translation_campaigns_are_injected_in_several_languages() -> None:
    corpus = synthetic_corpus(3000, seed=1, translation_campaigns=3)
    plain = synthetic_corpus(3000, seed=1, translation_campaigns=0)
    injected = {key: ids for key, ids in corpus.campaigns.items() if key[0] == "translation"}
    assert len(injected) == 3
    by_id = {p.id: p for p in corpus.posts}
    for ids in injected.values():
        languages = {by_id[pid].language for pid in ids}
        assert len(languages) >= 3 and languages <= {"fr", "en", "es", "ar"}
        assert len({by_id[pid].account for pid in ids}) == len(ids) >= 3
    # the rest of the corpus does not change with the translations
    others = [p for p in corpus.posts if corpus.truth.get(p.id, ("", 0))[0] != "translation"]
    assert others == plain.posts
    report = evaluate(corpus, detect_coordination(corpus.posts))
    assert report["text"]["precision"] >= 0.9
    assert set(report["translation"]) >= {"precision", "recall", "campaigns_recovered"}


def test_translation_run_joins_the_languages() -> None:
    corpus = synthetic_corpus(2000, seed=2, translation_campaigns=2, campaign_share=0.0)
    subset = translation_subset(corpus)
    assert {corpus.truth[p.id][0] for p in subset} == {"translation"}
    without = evaluate(corpus, find_copypasta(subset))["translation"]
    found = evaluate(corpus, find_copypasta(subset, translations=True, translation_threshold=0.6))
    assert found["translation"]["precision"] == 1.0
    assert found["translation"]["recall"] > without["recall"]


def test_bank_vocabulary_gives_every_post_a_language() -> None:
    corpus = synthetic_corpus(1500, seed=4, words="bank", translation_campaigns=2)
    assert {p.language for p in corpus.posts} == {"fr", "en", "es", "ar"}
    report = evaluate(corpus, detect_coordination(corpus.posts))
    assert report["text"]["recall"] >= 0.8


def test_pairwise_scores() -> None:
    truth = [{"a", "b", "c"}, {"d", "e"}]
    assert pairwise_scores(truth, truth) == {
        "precision": 1.0,
        "recall": 1.0,
        "pairs_found": 4.0,
        "pairs_true": 4.0,
    }
    scores = pairwise_scores([{"a", "b", "d"}], truth)
    assert scores["precision"] == pytest.approx(1 / 3)
    assert scores["recall"] == pytest.approx(1 / 4)
    focused = pairwise_scores([{"a", "b", "c", "d", "e"}], truth, focus={"d", "e"})
    # pairs with d or e: d-e (right) and 6 wrong ones with a, b, c
    assert focused["precision"] == pytest.approx(1 / 7)
    assert focused["recall"] == 1.0


class _Column:
    def __init__(self, values: dict[str, float | None]) -> None:
        self.values = values

    def dropna(self) -> _Column:
        return _Column({k: v for k, v in self.values.items() if v is not None})

    def items(self) -> list[tuple[str, float | None]]:
        return list(self.values.items())


class _Frame:
    columns = ("original", "cluster")

    def __init__(self, cluster: dict[str, float | None]) -> None:
        self.cluster = _Column(cluster)

    def __getitem__(self, name: str) -> _Column:
        assert name == "cluster"
        return self.cluster


def test_d3lta_runner_files_round_trip(tmp_path: Path) -> None:
    posts = [
        post("x1", "u1", "Le conseil municipal a voté la hausse de la taxe https://t.example/a"),
        Post("x2", "u2", "@maire The council voted the tax rise", T0, (), "en"),
        post("x3", "u3", "court"),
    ]
    vectors = np.eye(3, 512, dtype=np.float32)
    write_d3lta_input(tmp_path, posts, vectors, {"threshold_language": 0.6})
    read_posts, read_vectors, params = d3lta_runner.read_input(tmp_path)
    assert [p["id"] for p in read_posts] == ["x1", "x2", "x3"]
    assert [p["language"] for p in read_posts] == ["fr", "en", "fr"]
    assert read_vectors.shape == (3, 512) and read_vectors.dtype == np.float32
    assert params["threshold_language"] == 0.6 and params["min_size_txt"] == 30
    assert text_to_embed(posts[0].text) == "Le conseil municipal a voté la hausse de la taxe"
    assert text_to_embed(posts[1].text) == "The council voted the tax rise"
    frame = _Frame({"0": 0.0, "1": 0.0, "2": None})
    assert d3lta_runner.clusters_from_frame(frame, ["x1", "x2", "x3"]) == [["x1", "x2"]]
    (tmp_path / "clusters.json").write_text('{"clusters": [["x1", "x2"]], "seconds": 1.5}')
    assert read_d3lta_output(tmp_path)["clusters"] == [["x1", "x2"]]


D3LTA_PYTHON = os.environ.get("BEFFROI_D3LTA_PYTHON", "/tmp/d3lta/bin/python")


@pytest.mark.skipif(not Path(D3LTA_PYTHON).exists(), reason="no d3lta virtual environment")
def test_d3lta_runner_in_its_environment(tmp_path: Path) -> None:
    texts = [
        "Le conseil municipal a voté en douce la hausse de la taxe foncière",
        "Le conseil municipal a voté en douce la hausse de la taxe foncière !",
        "The city council quietly voted to raise the property tax",
        "Bravo aux bénévoles du club de foot pour le tournoi des jeunes",
    ]
    posts = [
        Post(str(i), f"u{i}", text, T0, (), "en" if i == 2 else "fr")
        for i, text in enumerate(texts)
    ]
    vectors = np.zeros((4, 512), dtype=np.float32)
    vectors[[0, 1, 2], 0] = 1.0
    vectors[2, 1] = 0.5  # cosine 0.89 with the French ones: a translation
    vectors[3, 2] = 1.0
    write_d3lta_input(tmp_path, posts, vectors)
    subprocess.run([D3LTA_PYTHON, str(D3LTA_RUNNER), str(tmp_path)], check=True, timeout=300)
    assert read_d3lta_output(tmp_path)["clusters"] == [["0", "1", "2"]]
