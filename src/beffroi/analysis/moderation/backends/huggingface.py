"""Any Hugging Face text-classification model, from a local directory or the hub.

transformers and torch are imported when such a backend is built, never before: the embedded
default (rules and the numpy classifier) stays light. Scores are the model's probabilities:
a sigmoid per label for multi-label models (``problem_type = multi_label_classification``, as
toxicity models are), a softmax over the labels otherwise; ``activation=`` overrides.
Downloads from the hub go through huggingface_hub's HTTP client, whose connections are
checked by :mod:`beffroi.egress` like every other outbound request.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from beffroi import egress
from beffroi.analysis.moderation.backends.errors import BackendConfigurationError, require
from beffroi.analysis.moderation.backends.labels import (
    LabelScoringDetector,
    file_digest,
    mapping_digest,
    resolve_model_labels,
)

log = logging.getLogger(__name__)

#: Longest input, in tokens, when neither the option nor the model says less.
DEFAULT_MAX_LENGTH = 512
# Files of a saved model directory that make its version (weights, configuration, vocabulary).
_MODEL_FILES = (
    "*.json",
    "*.safetensors",
    "*.bin",
    "*.txt",
    "*.model",
    "*.pt",
    "*.pth",
    "*.msgpack",
)


def torch_device(torch: Any, device: str) -> Any:
    """``cpu``, ``cuda``, ``cuda:1``, ``mps``, or ``auto`` (a GPU when there is one)."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise BackendConfigurationError(f"device '{device}' is not a torch device: {exc}") from exc


def set_threads(torch: Any, threads: int | None) -> None:
    """Cap torch's CPU threads for this process (``threads=``). Where other processes share
    the cores (a web server, Celery workers), torch's default of one thread per core spins
    against them: on two busy cores a tiny model ran 40 times slower with two threads
    than with one."""
    if threads is not None:
        torch.set_num_threads(threads)


def model_revision(model: str, config: Any) -> str:
    """The hub commit the model came from, or a digest of the files of a local directory."""
    commit = getattr(config, "_commit_hash", None)
    if isinstance(commit, str) and commit:
        return commit[:12]
    directory = Path(model)
    if directory.is_dir():
        files = {path for pattern in _MODEL_FILES for path in directory.glob(pattern)}
        return file_digest(path for path in files if path.is_file())[:12]
    return hashlib.sha256(config.to_json_string().encode()).hexdigest()[:12]


class HuggingFaceDetector(LabelScoringDetector):
    """A transformers sequence-classification model as a :class:`Detector`."""

    def __init__(
        self,
        model: str,
        *,
        category: str | None = None,
        labels: Sequence[str] | None = None,
        label_map: Mapping[str, tuple[str, ...]] | None = None,
        device: str = "cpu",
        batch_size: int = 32,
        max_length: int | None = None,
        min_score: float = 0.01,
        activation: str | None = None,
        revision: str | None = None,
        local_files_only: bool = False,
        threads: int | None = None,
        name: str | None = None,
    ) -> None:
        started = time.perf_counter()
        self._torch = require("torch", "Hugging Face")
        transformers = require("transformers", "Hugging Face")
        set_threads(self._torch, threads)
        self._device = torch_device(self._torch, device)
        egress.guard_huggingface_hub()
        try:
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(
                model, revision=revision, local_files_only=local_files_only
            )
            self._model = transformers.AutoModelForSequenceClassification.from_pretrained(
                model, revision=revision, local_files_only=local_files_only
            )
        except (OSError, ValueError, KeyError) as exc:
            raise BackendConfigurationError(
                f"Cannot load the Hugging Face model '{model}': {exc}"
            ) from exc
        self._model.to(self._device)
        self._model.eval()
        config = self._model.config
        self.labels: list[str] = [
            str(config.id2label.get(index, f"LABEL_{index}")) for index in range(config.num_labels)
        ]
        self.mapping = resolve_model_labels(
            self.labels, category=category, positive=labels, overrides=label_map
        )
        self.multi_label = (
            activation == "sigmoid"
            if activation is not None
            else config.problem_type == "multi_label_classification" or config.num_labels == 1
        )
        limits = [max_length or DEFAULT_MAX_LENGTH]
        for limit in (
            getattr(self._tokenizer, "model_max_length", None),
            getattr(config, "max_position_embeddings", None),
        ):
            if isinstance(limit, int) and 0 < limit < 1_000_000:
                limits.append(limit)
        self.max_length = min(limits)
        self.batch_size = batch_size
        self.min_score = min_score
        self.model_name = name or (Path(model).name if Path(model).is_dir() else model)
        self.name = f"hf:{self.model_name}"
        self.version = (
            f"{self.model_name}@{model_revision(model, config)}+map.{mapping_digest(self.mapping)}"
        )
        log.info(
            "moderation backend %s loaded (%s, %d labels, %s) in %.1f s",
            self.name,
            self.version,
            len(self.labels),
            self._device,
            time.perf_counter() - started,
        )

    def __repr__(self) -> str:
        return f"<HuggingFaceDetector {self.version} on {self._device}>"

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Each text's probability per model label, computed in batches of similar lengths."""
        torch = self._torch
        rows: list[dict[str, float]] = [{} for _ in texts]
        # Sorting by length keeps padding (wasted work) small inside a batch.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                encoded = self._tokenizer(
                    [texts[i] for i in chunk],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                inputs = {key: value.to(self._device) for key, value in encoded.items()}
                logits = self._model(**inputs).logits.float()
                if self.multi_label:
                    probabilities = torch.sigmoid(logits)
                else:
                    probabilities = torch.softmax(logits, dim=-1)
                for index, row in zip(chunk, probabilities.cpu().tolist(), strict=True):
                    rows[index] = dict(zip(self.labels, row, strict=True))
        return rows
