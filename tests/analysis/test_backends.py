"""Heavier moderation backends: specifications, label mapping, an OpenAI-compatible endpoint
against a loopback server, and real Hugging Face and Detoxify loading on tiny models that the
tests build and train themselves (skipped without torch and transformers)."""

from __future__ import annotations

import inspect
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from beffroi.analysis.moderation.backends import (
    BackendAuthError,
    BackendConfigurationError,
    BackendMalformedResponse,
    BackendNotInstalled,
    BackendQuotaExceeded,
    BackendRateLimited,
    BackendRequestError,
    BackendSpec,
    BackendTransientError,
    backend_from_config,
    backends_from_env,
)
from beffroi.analysis.moderation.backends.labels import (
    guess_category,
    parse_label_map,
    resolve_model_labels,
    signals_from_scores,
)
from beffroi.analysis.moderation.backends.openai_moderation import (
    OpenAIModerationDetector,
    moderation_endpoint,
    retry_after_seconds,
)
from beffroi.analysis.moderation.backends.spec import split_specs
from beffroi.analysis.moderation.signals import CATEGORIES, Signal
from tests.fakes.openai_moderation_server import DEFAULT_KEY, FakeModerationServer

# --- specifications ----------------------------------------------------------------------------


def test_several_specifications_in_one_variable_keep_their_own_commas() -> None:
    value = (
        "hf:/models/tox?label=toxic,hateful&category=hate, detoxify:original;"
        "openai:https://api.openai.com/v1?model=omni-moderation-latest\n# a comment\n"
    )
    assert split_specs(value) == [
        "hf:/models/tox?label=toxic,hateful&category=hate",
        "detoxify:original",
        "openai:https://api.openai.com/v1?model=omni-moderation-latest",
    ]
    spec = BackendSpec.parse(split_specs(value)[0])
    assert (spec.kind, spec.target) == ("hf", "/models/tox")
    assert spec.options == {"label": "toxic,hateful", "category": "hate"}
    assert BackendSpec.parse("openai:http://127.0.0.1:8000/v1").target == "http://127.0.0.1:8000/v1"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("perspective:x", "must start with one of hf:, detoxify:, openai:"),
        ("hf:", "say which model"),
        ("openai:https://x.example?api_key=sk-1", "never goes in the backend specification"),
        ("hf:some/model?categroy=hate", "unknown option(s) categroy"),
        ("hf:some/model?category=nudity", "Unknown charter category 'nudity'"),
        ("hf:some/model?batch=0", "batch='0' should be a whole number ≥ 1"),
        ("hf:some/model?map=toxic", "is not 'label:category'"),
        ("openai:ftp://x.example", "must start with http:// or https://"),
        ("openai:https://x.example?timeout=soon", "timeout='soon' should be a number"),
    ],
)
def test_a_wrong_specification_says_what_to_fix(spec: str, message: str) -> None:
    # Options are checked before any model is loaded: no torch needed to see these.
    with pytest.raises(BackendConfigurationError) as caught:
        backend_from_config(spec)
    assert message in str(caught.value)


def test_no_backend_configured_means_no_detector() -> None:
    assert backends_from_env({}) == []
    assert backends_from_env({"BEFFROI_MODERATION_BACKENDS": " ; \n"}) == []


def test_the_default_install_stays_light() -> None:
    """Configuring an HTTP backend, or none, imports neither torch nor transformers."""
    code = (
        "import sys, json\n"
        "from beffroi.analysis.moderation.backends import backends_from_env\n"
        "env = {'BEFFROI_MODERATION_BACKENDS': 'openai:http://127.0.0.1:9/v1'}\n"
        "assert len(backends_from_env(env)) == 1 and backends_from_env({}) == []\n"
        "print(json.dumps(sorted(m for m in ('torch', 'transformers', 'detoxify') "
        "if m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout) == []


def test_a_missing_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import torch` fail, installed or not.
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "transformers", None)
    monkeypatch.setitem(sys.modules, "detoxify", None)
    for spec in ("hf:unitary/toxic-bert", "detoxify:original"):
        with pytest.raises(BackendNotInstalled) as caught:
            backend_from_config(spec)
        assert "install beffroi[models]" in str(caught.value)


# --- label mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "category"),
    [
        ("toxic", "insult"),
        ("severe_toxic", "insult"),
        ("Obscene", "insult"),
        ("identity_hate", "hate"),
        ("identity-attack", "hate"),
        ("hateful", "hate"),
        ("HS", "hate"),
        ("OFF", "insult"),
        ("threat", "threat"),
        ("harassment", "harassment"),
        ("terrorist_propaganda", "terrorism"),
        ("spam", "spam"),
        ("non-toxic", None),
        ("NOT", None),
        ("nothate", None),
        ("neutral", None),
        ("LABEL_0", None),
        ("sexual_explicit", None),
        ("positive", None),
    ],
)
def test_label_names_suggest_categories(label: str, category: str | None) -> None:
    assert guess_category(label) == category


def test_model_labels_map_to_categories_by_name_or_by_configuration() -> None:
    jigsaw = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
    assert resolve_model_labels(jigsaw) == {
        "toxic": ("insult",),
        "severe_toxic": ("insult",),
        "obscene": ("insult",),
        "threat": ("threat",),
        "insult": ("insult",),
        "identity_hate": ("hate",),
    }
    assert resolve_model_labels(["non-toxic", "toxic"]) == {"toxic": ("insult",)}
    # A binary model whose labels say nothing: the positive label, mildest category by default.
    assert resolve_model_labels(["LABEL_0", "LABEL_1"]) == {"LABEL_1": ("insult",)}
    assert resolve_model_labels(["LABEL_0", "LABEL_1"], category="hate") == {"LABEL_1": ("hate",)}
    # A one-output model: its single score is the harmful one, whatever its name.
    assert resolve_model_labels(["LABEL_0"]) == {"LABEL_0": ("insult",)}
    assert resolve_model_labels(["hate_score"]) == {"hate_score": ("hate",)}
    assert resolve_model_labels(["LABEL_0"], category="threat") == {"LABEL_0": ("threat",)}
    # label= picks the harmful labels; category= names their category.
    assert resolve_model_labels(
        ["nothate", "hate", "offensive"], positive=["hate", "offensive"], category="hate"
    ) == {"hate": ("hate",), "offensive": ("hate",)}
    # map= wins over names, can give several categories, or drop a label.
    assert resolve_model_labels(
        jigsaw, overrides=parse_label_map("threat:threat|harassment,obscene:-,toxic:harassment")
    ) == {
        "toxic": ("harassment",),
        "severe_toxic": ("insult",),
        "threat": ("threat", "harassment"),
        "insult": ("insult",),
        "identity_hate": ("hate",),
    }


def test_labels_that_map_to_nothing_are_refused_with_the_model_labels() -> None:
    with pytest.raises(BackendConfigurationError, match="negative, positive"):
        resolve_model_labels(["negative", "positive"])
    with pytest.raises(BackendConfigurationError, match="has no label 'hatefull'"):
        resolve_model_labels(["nothate", "hate"], positive=["hatefull"])
    with pytest.raises(BackendConfigurationError, match="suggests no charter category"):
        resolve_model_labels(["a", "b", "c"], positive=["b"])


def test_scores_become_one_signal_per_category_with_the_label_that_gave_it() -> None:
    mapping = {"toxic": ("insult",), "insult": ("insult",), "threat": ("threat", "harassment")}
    signals = signals_from_scores(
        {"toxic": 0.4, "insult": 0.7, "threat": 0.005, "unmapped": 0.99},
        mapping,
        detector="hf:m",
        version="m@1",
        model="m",
        min_score=0.01,
        flagged={"insult": True},
    )
    assert signals == [
        Signal("hf:m", "m@1", "insult", 0.7, ("model:m", "label:insult", "flagged")),
    ]
    signals = signals_from_scores(
        {"threat": 0.3}, mapping, detector="d", version="v", model="m", min_score=0.0
    )
    assert [(s.category, s.score, s.evidence[1]) for s in signals] == [
        ("threat", 0.3, "label:threat"),
        ("harassment", 0.3, "label:threat"),
    ]
    assert [s.category for s in signals] == sorted(
        (s.category for s in signals), key=CATEGORIES.index
    )


# --- OpenAI-compatible endpoint ----------------------------------------------------------------


@pytest.fixture
def moderation() -> Iterator[FakeModerationServer]:
    with FakeModerationServer() as fake:
        yield fake


def openai_backend(server: FakeModerationServer, options: str = "", **env: str) -> Any:
    environment = {"BEFFROI_OPENAI_API_KEY": DEFAULT_KEY, **env}
    query = f"?{options}" if options else ""
    return backend_from_config(f"openai:{server.base_url}{query}", env=environment)


def by_category(signals: list[Signal]) -> dict[str, Signal]:
    return {signal.category: signal for signal in signals}


def test_openai_request_and_answer_as_documented(moderation: FakeModerationServer) -> None:
    detector = openai_backend(moderation)
    texts = ["Ils sont de la vermine", "I will kill you", "Bonne journée à tous"]
    results = detector.score(texts)

    [request] = moderation.requests
    assert (request.method, request.path) == ("POST", "/v1/moderations")
    assert moderation.key_of(request) == "valid"
    assert request.header("content-type") == "application/json"
    assert request.body == {"model": "omni-moderation-latest", "input": texts}

    assert len(results) == 3
    hate = by_category(results[0])
    assert hate["hate"].score == pytest.approx(0.88)
    assert hate["hate"].evidence == ("model:omni-moderation-2024-09-26", "label:hate", "flagged")
    assert hate["harassment"].score == pytest.approx(0.62)
    # hate/threatening also counts as a threat, not flagged at 0.12.
    assert hate["threat"].evidence == ("model:omni-moderation-2024-09-26", "label:hate/threatening")
    assert hate["threat"].score == pytest.approx(0.12)
    threat = by_category(results[1])
    assert set(threat) == {"threat", "harassment"}  # violence (0.93) is not a charter threat
    assert threat["threat"].score == pytest.approx(0.81)
    assert threat["harassment"].evidence[1] == "label:harassment/threatening"
    assert results[2] == []  # scores of 1.5e-05 are below min_score
    assert detector.name == "openai:omni-moderation-latest"
    assert detector.version.startswith("omni-moderation-2024-09-26+map.")
    assert {s.detector_version for s in results[0]} == {detector.version}


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/", "/v1/moderations"])
def test_openai_base_url_forms(suffix: str) -> None:
    assert moderation_endpoint("https://api.example.org" + suffix) == (
        "https://api.example.org/v1/moderations"
    )


def test_openai_batches_keep_the_order(moderation: FakeModerationServer) -> None:
    detector = openai_backend(moderation, "batch=2&model=text-moderation-stable&min_score=0")
    texts = ["idiot", "calme", "vermine", "kill", "rien"]
    results = detector.score(texts)
    assert [len(r.body["input"]) for r in moderation.requests] == [2, 2, 1]
    assert [r.body["model"] for r in moderation.requests] == ["text-moderation-stable"] * 3
    assert [by_category(r)["harassment"].score for r in results] == pytest.approx(
        [0.71, 1.5e-05, 0.62, 0.81, 1.5e-05]
    )
    assert detector.version.startswith("text-moderation-007+")
    assert detector.score([]) == []
    assert len(moderation.requests) == 3


def test_openai_map_option_adds_and_drops_categories(moderation: FakeModerationServer) -> None:
    detector = openai_backend(moderation, "map=violence:threat,harassment:-")
    [signals] = detector.score(["I will kill you"])
    assert by_category(signals)["threat"].evidence[1] == "label:violence"
    assert by_category(signals)["threat"].score == pytest.approx(0.93)
    assert "harassment" in by_category(signals)  # still from harassment/threatening
    assert by_category(signals)["harassment"].evidence[1] == "label:harassment/threatening"


def test_openai_refused_key_is_an_auth_error_that_never_shows_the_key(
    moderation: FakeModerationServer,
) -> None:
    wrong = "sk-wrong-key-0123456789"
    detector = openai_backend(moderation, BEFFROI_OPENAI_API_KEY=wrong)
    with pytest.raises(BackendAuthError) as caught:
        detector.score(["hello"])
    assert "invalid_api_key" in str(caught.value) or "Incorrect API key" in str(caught.value)
    assert wrong not in str(caught.value) and wrong not in repr(detector)
    assert "wrong-key" not in str(caught.value)
    assert moderation.key_of(moderation.requests[-1]) == "invalid"

    without = openai_backend(moderation, BEFFROI_OPENAI_API_KEY="")
    with pytest.raises(BackendAuthError, match="BEFFROI_OPENAI_API_KEY"):
        without.score(["hello"])
    assert moderation.key_of(moderation.requests[-1]) == "missing"

    moderation.revoke_key()
    with pytest.raises(BackendAuthError):
        openai_backend(moderation).score(["hello"])


def test_openai_key_from_another_variable(moderation: FakeModerationServer) -> None:
    detector = openai_backend(
        moderation,
        "api_key_env=MODERATION_KEY",
        BEFFROI_OPENAI_API_KEY="",
        MODERATION_KEY=DEFAULT_KEY,
    )
    assert detector.score(["idiot"])[0][0].category == "harassment"
    assert moderation.key_of(moderation.requests[-1]) == "valid"


def test_openai_short_rate_limit_is_waited_out_once(moderation: FakeModerationServer) -> None:
    slept: list[float] = []
    detector = OpenAIModerationDetector(
        moderation.base_url, api_key=DEFAULT_KEY, max_wait=5, sleep=slept.append
    )
    moderation.rate_limit(1, retry_after="2")
    assert by_category(detector.score(["vermine"])[0])["hate"].score == pytest.approx(0.88)
    assert slept == [2.0] and len(moderation.requests) == 2

    moderation.rate_limit(2, retry_after="1")
    with pytest.raises(BackendRateLimited) as caught:
        detector.score(["vermine"])
    assert caught.value.retry_after == 1.0 and "slow down" in str(caught.value)


def test_openai_long_rate_limit_is_raised_with_its_delay(moderation: FakeModerationServer) -> None:
    slept: list[float] = []
    detector = OpenAIModerationDetector(
        moderation.base_url, api_key=DEFAULT_KEY, max_wait=5, sleep=slept.append
    )
    moderation.rate_limit(1, retry_after="120")
    with pytest.raises(BackendRateLimited) as caught:
        detector.score(["x"])
    assert caught.value.retry_after == 120.0
    assert slept == [] and len(moderation.requests) == 1


def test_openai_spent_quota_is_not_retried(moderation: FakeModerationServer) -> None:
    slept: list[float] = []
    detector = OpenAIModerationDetector(
        moderation.base_url, api_key=DEFAULT_KEY, sleep=slept.append
    )
    moderation.exhaust_quota()
    with pytest.raises(BackendQuotaExceeded, match="quota"):
        detector.score(["x"])
    assert slept == [] and len(moderation.requests) == 1


def test_openai_server_errors_and_dropped_connections_are_retried_with_backoff(
    moderation: FakeModerationServer,
) -> None:
    slept: list[float] = []
    detector = OpenAIModerationDetector(
        moderation.base_url, api_key=DEFAULT_KEY, max_retries=2, backoff=0.25, sleep=slept.append
    )
    moderation.server_error(1, status=502)
    moderation.drop_connections(1)
    assert detector.score(["idiot"])[0][0].category == "harassment"
    assert slept == [0.25, 0.5] and len(moderation.requests) == 3

    slept.clear()
    moderation.server_error(5, status=503)
    with pytest.raises(BackendTransientError, match="503") as caught:
        detector.score(["idiot"])
    assert "after 3 attempt(s)" in str(caught.value)
    assert slept == [0.25, 0.5]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"id": "modr-1", "results": [', "not JSON"),
        (b'{"id": "modr-1", "model": "m", "results": []}', "0 results for 1 texts"),
        (b'{"results": [{"category_scores": {"hate": "high"}}]}', "not a number"),
        (b'{"results": [{"category_scores": {"hate": 7}}]}', "outside [0, 1]"),
        (b'{"results": [{"categories": {"hate": true}}]}', "without category_scores"),
        (b"[1, 2]", "not an object"),
    ],
)
def test_openai_malformed_answers_are_clear_errors(
    moderation: FakeModerationServer, body: bytes, message: str
) -> None:
    moderation.malformed(body)
    with pytest.raises(BackendMalformedResponse) as caught:
        openai_backend(moderation).score(["x"])
    assert message in str(caught.value)


def test_openai_refused_request_carries_the_service_reason(
    moderation: FakeModerationServer,
) -> None:
    with pytest.raises(BackendRequestError) as caught:
        openai_backend(moderation, "model=moderation-9000").score(["x"])
    assert "404, model_not_found" in str(caught.value)
    assert "moderation-9000" in str(caught.value)


def test_retry_after_header_forms() -> None:
    now = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds({"Retry-After": "7"}) == 7.0
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after_seconds({"Retry-After": later}, now=now) == 30.0
    assert retry_after_seconds({"x-ratelimit-reset-requests": "6m0s"}) == 360.0
    assert retry_after_seconds({"x-ratelimit-reset-requests": "20ms"}) == pytest.approx(0.02)
    assert retry_after_seconds({"x-ratelimit-reset-requests": "soon"}) is None
    assert retry_after_seconds({}) is None


# --- real models, built and trained by the tests -----------------------------------------------

JIGSAW = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
# The tiny model is a real BERT whose weights are set by hand so that its outputs can be
# predicted: each signal word lights one hidden dimension, the rest of the vocabulary none.
SIGNAL_WORDS = {"vermin": 1, "kill": 2, "idiot": 3}
WORDS = sorted(
    {"they", "are", "those", "people", "i", "will", "you", "we", "them", "all", "an", "what"}
    | {"a", "nice", "day", "thank", "for", "the", "market", "hello", *SIGNAL_WORDS}
)
# Label → (weight per hidden dimension, bias) of the classification head.
JIGSAW_HEAD: dict[str, tuple[dict[int, float], float]] = {
    "toxic": ({1: 8.0, 2: 8.0, 3: 8.0}, -3.0),
    "severe_toxic": ({2: 4.0}, -5.0),
    "obscene": ({}, -6.0),
    "threat": ({2: 10.0}, -5.0),
    "insult": ({3: 10.0}, -5.0),
    "identity_hate": ({1: 10.0}, -5.0),
}
BINARY_HEAD: dict[str, tuple[dict[int, float], float]] = {
    "LABEL_0": ({}, 0.0),
    "LABEL_1": ({1: 12.0, 2: 12.0, 3: 12.0}, -3.0),
}


def build_tiny_bert(
    torch: Any,
    transformers: Any,
    directory: Path,
    head: dict[str, tuple[dict[int, float], float]],
    *,
    multi_label: bool,
) -> Any:
    """A one-layer BERT (hidden size 16, a 30-word vocabulary) saved with ``save_pretrained``.

    Weights: query and key zero (attention is a plain average over the tokens), value, output
    and pooler the identity, feed-forward zero, so the pooled [CLS] vector lights dimension
    ``SIGNAL_WORDS[w]`` (tanh ≈ 0.999, the others ≈ -0.25) when word ``w`` is in the text and
    is zero otherwise; ``head`` turns that into each label's logit.
    """
    directory.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # transformers 5 names the argument ``vocab``, 4 ``vocab_file`` (and 5 ignores it).
    argument = (
        "vocab_file"
        if "vocab_file" in inspect.signature(transformers.BertTokenizer.__init__).parameters
        else "vocab"
    )
    tokenizer = transformers.BertTokenizer(
        **{argument: str(directory / "vocab.txt")}, model_max_length=64
    )
    assert tokenizer.convert_tokens_to_ids("vermin") == vocab.index("vermin")
    labels = list(head)
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        problem_type="multi_label_classification" if multi_label else "single_label_classification",
    )
    model = transformers.BertForSequenceClassification(config)
    identity = torch.eye(16)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.fill_(1.0)
        for word, dimension in SIGNAL_WORDS.items():
            model.bert.embeddings.word_embeddings.weight[vocab.index(word), dimension] = 1.0
        layer = model.bert.encoder.layer[0]
        layer.attention.self.value.weight.copy_(identity)
        layer.attention.output.dense.weight.copy_(identity)
        model.bert.pooler.dense.weight.copy_(identity)
        for index, (weights, bias) in enumerate(head.values()):
            for dimension, weight in weights.items():
                model.classifier.weight[index, dimension] = weight
            model.classifier.bias[index] = bias
    model.eval()
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return model


@pytest.fixture(scope="module")
def torch_modules() -> tuple[Any, Any]:
    torch = pytest.importorskip("torch", reason="heavier backends need torch: beffroi[models]")
    transformers = pytest.importorskip(
        "transformers", reason="heavier backends need transformers: beffroi[models]"
    )
    return torch, transformers


@pytest.fixture(scope="module")
def jigsaw_model(torch_modules: tuple[Any, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch, transformers = torch_modules
    directory = tmp_path_factory.mktemp("models") / "tiny-jigsaw"
    build_tiny_bert(torch, transformers, directory, JIGSAW_HEAD, multi_label=True)
    return directory


@pytest.fixture(scope="module")
def binary_model(torch_modules: tuple[Any, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch, transformers = torch_modules
    directory = tmp_path_factory.mktemp("models") / "tiny-binary"
    build_tiny_bert(torch, transformers, directory, BINARY_HEAD, multi_label=False)
    return directory


def top(signals: list[Signal]) -> Signal:
    return max(signals, key=lambda signal: signal.score)


def expected(
    head: dict[str, tuple[dict[int, float], float]], label: str, word: str | None
) -> float:
    """The probability the hand-set model must give ``label`` for a text with one signal word
    (or none): the pooled dimension of the word is tanh(15/16 / sqrt(15/256)) after the
    layer norms, every other one tanh(-1/16 / sqrt(15/256)); a text without one pools to 0."""
    lit = math.tanh((15 / 16) / math.sqrt(15 / 256))
    unlit = math.tanh(-(1 / 16) / math.sqrt(15 / 256))
    weights, bias = head[label]
    logit = bias
    if word is not None:
        logit += sum(w * (lit if d == SIGNAL_WORDS[word] else unlit) for d, w in weights.items())
    return 1 / (1 + math.exp(-logit))


def scores(signals: list[Signal]) -> dict[str, tuple[float, str]]:
    """Category → (score to 4 decimals, the label that gave it)."""
    return {s.category: (round(s.score, 4), s.evidence[1]) for s in signals}


def test_hf_model_from_a_local_directory(jigsaw_model: Path) -> None:
    detector = backend_from_config(f"hf:{jigsaw_model}")
    texts = ["they are vermin", "i will kill you", "you are an idiot", "what a nice day"]
    results = detector.score(texts)
    assert len(results) == len(texts)

    def exp(label: str, word: str | None) -> tuple[float, str]:
        return round(expected(JIGSAW_HEAD, label, word), 4), f"label:{label}"

    hate, threat, insult, calm = results
    # Sigmoid per label (a multi-label model); each category keeps its best label;
    # scores under min_score (0.01) are left out.
    assert scores(hate) == {
        "hate": exp("identity_hate", "vermin"),
        "insult": exp("toxic", "vermin"),
    }
    assert scores(threat) == {
        "threat": exp("threat", "kill"),
        "insult": exp("toxic", "kill"),  # beats severe_toxic
    }
    assert scores(insult) == {"insult": exp("insult", "idiot")}
    assert scores(calm) == {"insult": exp("toxic", None)}
    assert top(hate).score > 0.99 and top(threat).category == "threat"
    assert top(hate).evidence == ("model:tiny-jigsaw", "label:identity_hate")
    for signals in results:
        assert all(s.detector == "hf:tiny-jigsaw" for s in signals)
        assert all(s.detector_version == detector.version for s in signals)


def test_hf_scores_are_deterministic_and_independent_of_batching(jigsaw_model: Path) -> None:
    texts = ["they are vermin", "hello", "", "what an idiot " * 40, "i will kill you"]
    whole = backend_from_config(f"hf:{jigsaw_model}?min_score=0&threads=1")
    one_by_one = backend_from_config(f"hf:{jigsaw_model}?min_score=0&batch=1")
    torch = pytest.importorskip("torch")
    assert torch.get_num_threads() == 1
    first, again, single = whole.score(texts), whole.score(texts), one_by_one.score(texts)
    assert first == again
    assert [[s.category for s in r] for r in first] == [[s.category for s in r] for r in single]
    for a, b in zip(first, single, strict=True):
        assert [s.score for s in a] == pytest.approx([s.score for s in b], abs=1e-5)
    # The long text (160 words) was truncated to the model's 64 positions, not refused.
    assert by_category(first[3])["insult"].score > 0.5
    assert whole.score([]) == []


def test_hf_version_names_the_model_files_and_the_mapping(jigsaw_model: Path) -> None:
    detector = backend_from_config(f"hf:{jigsaw_model}")
    name, _, rest = detector.version.partition("@")
    revision, _, mapping = rest.partition("+map.")
    assert name == "tiny-jigsaw" and len(revision) == 12 and len(mapping) == 8
    assert backend_from_config(f"hf:{jigsaw_model}").version == detector.version
    remapped = backend_from_config(f"hf:{jigsaw_model}?map=toxic:harassment&name=jigsaw-town")
    assert remapped.version.startswith(f"jigsaw-town@{revision}+map.")
    assert remapped.version != detector.version.replace("tiny-jigsaw", "jigsaw-town")
    assert remapped.name == "hf:jigsaw-town"
    [signals] = remapped.score(["what an idiot"])
    assert by_category(signals)["harassment"].evidence == ("model:jigsaw-town", "label:toxic")


def test_hf_label_and_category_options(jigsaw_model: Path) -> None:
    detector = backend_from_config(f"hf:{jigsaw_model}?label=toxic,threat&category=harassment")
    [signals] = detector.score(["i will kill you"])
    assert [s.category for s in signals] == ["harassment"]
    assert signals[0].evidence[1] in ("label:toxic", "label:threat")
    with pytest.raises(BackendConfigurationError, match="its labels are: toxic, severe_toxic"):
        backend_from_config(f"hf:{jigsaw_model}?label=hateful")


def test_hf_binary_model_with_meaningless_labels(binary_model: Path) -> None:
    plain = backend_from_config(f"hf:{binary_model}")
    assert plain.score(["they are vermin"])[0][0].category == "insult"
    detector = backend_from_config(f"hf:{binary_model}?category=hate&min_score=0")
    harmful, calm = detector.score(["we will kill them all", "thank you for the market"])
    assert [s.category for s in harmful] == ["hate"]
    assert harmful[0].evidence == ("model:tiny-binary", "label:LABEL_1")
    # A softmax over two labels: the score is the probability of LABEL_1.
    assert harmful[0].score == pytest.approx(expected(BINARY_HEAD, "LABEL_1", "kill"), abs=1e-5)
    assert calm[0].score == pytest.approx(expected(BINARY_HEAD, "LABEL_1", None), abs=1e-5)
    assert harmful[0].score > 0.9


def test_hf_model_that_does_not_exist(torch_modules: tuple[Any, Any], tmp_path: Path) -> None:
    with pytest.raises(BackendConfigurationError, match="Cannot load the Hugging Face model"):
        backend_from_config(f"hf:{tmp_path / 'absent'}?local_files_only=true")
    with pytest.raises(BackendConfigurationError, match="not a torch device"):
        backend_from_config(f"hf:{tmp_path}?device=quantum")


@pytest.fixture(scope="module")
def detoxify_checkpoint(
    torch_modules: tuple[Any, Any], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """A checkpoint in Detoxify's own format: ``{"config": …, "state_dict": …}`` whose
    ``arch.args.model_type`` is a local directory (config and tokenizer), so nothing is
    fetched from the hub."""
    pytest.importorskip("detoxify", reason="the Detoxify backend needs detoxify: beffroi[models]")
    torch, transformers = torch_modules
    base = tmp_path_factory.mktemp("detoxify")
    hf_dir = base / "tiny-bert-config"
    model = build_tiny_bert(torch, transformers, hf_dir, JIGSAW_HEAD, multi_label=True)
    checkpoint = base / "tiny_toxic.ckpt"
    torch.save(
        {
            "config": {
                "arch": {
                    "args": {
                        "model_type": str(hf_dir),
                        "model_name": "BertForSequenceClassification",
                        "tokenizer_name": "BertTokenizer",
                        "num_classes": len(JIGSAW),
                    }
                },
                "dataset": {"args": {"classes": JIGSAW}},
            },
            "state_dict": model.state_dict(),
        },
        checkpoint,
    )
    return checkpoint, hf_dir


def test_detoxify_checkpoint(detoxify_checkpoint: tuple[Path, Path]) -> None:
    checkpoint, hf_dir = detoxify_checkpoint
    detector = backend_from_config(f"detoxify:{checkpoint}")
    assert detector.name == "detoxify:tiny_toxic"
    assert detector.version.startswith("detoxify-tiny_toxic@")
    texts = ["they are vermin", "i will kill you", "you are an idiot", "what a nice day"]
    hate, threat, insult, calm = detector.score(texts)

    # Detoxify renames identity_hate to identity_attack and toxic to toxicity.
    def exp(label: str, word: str | None, renamed: str) -> tuple[float, str]:
        return round(expected(JIGSAW_HEAD, label, word), 4), f"label:{renamed}"

    assert scores(hate) == {
        "hate": exp("identity_hate", "vermin", "identity_attack"),
        "insult": exp("toxic", "vermin", "toxicity"),
    }
    assert scores(threat) == {
        "threat": exp("threat", "kill", "threat"),
        "insult": exp("toxic", "kill", "toxicity"),
    }
    assert scores(insult) == {"insult": exp("insult", "idiot", "insult")}
    assert scores(calm) == {"insult": exp("toxic", None, "toxicity")}
    assert top(hate).evidence == ("model:detoxify-tiny_toxic", "label:identity_attack")

    # One text at a time (Detoxify squeezes a batch of one to plain numbers) gives the same.
    single = backend_from_config(f"detoxify:{checkpoint}?batch=1")
    for a, b in zip(single.score(texts), (hate, threat, insult, calm), strict=True):
        assert [(s.category, s.evidence) for s in a] == [(s.category, s.evidence) for s in b]
        assert [s.score for s in a] == pytest.approx([s.score for s in b], abs=1e-5)

    # Detoxify's huggingface_config_path (for machines without the hub), and map=.
    offline = backend_from_config(f"detoxify:{checkpoint}?config={hf_dir}&map=threat:-")
    [signals] = offline.score(["i will kill you"])
    assert "threat" not in by_category(signals) and "insult" in by_category(signals)


def test_detoxify_refuses_what_it_cannot_load(
    detoxify_checkpoint: tuple[Path, Path], tmp_path: Path
) -> None:
    with pytest.raises(BackendConfigurationError, match="neither a Detoxify model"):
        backend_from_config(f"detoxify:{tmp_path / 'missing.ckpt'}")
    broken = tmp_path / "broken.ckpt"
    torch = pytest.importorskip("torch")
    torch.save({"state_dict": {}}, broken)
    with pytest.raises(BackendConfigurationError, match="Cannot load the Detoxify model"):
        backend_from_config(f"detoxify:{broken}")
