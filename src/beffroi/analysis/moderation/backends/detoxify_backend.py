"""Detoxify (Unitary's Jigsaw toxicity models) through the ``detoxify`` package.

``detoxify:original`` (or ``unbiased``, ``multilingual``, ``original-small``,
``unbiased-small``) lets the package download its release checkpoint once (torch hub cache);
``detoxify:/path/model.ckpt`` loads a local checkpoint: a ``torch.save`` dict with ``config``
(``arch.args``: ``model_type``, ``model_name``, ``tokenizer_name``, ``num_classes``;
``dataset.args.classes``) and ``state_dict``, as Detoxify's training writes it. ``config=``
is Detoxify's ``huggingface_config_path``: a directory with the transformers configuration
and tokenizer files, for machines without access to the hub. A checkpoint is a pickle:
loading one runs code, so only load checkpoints from a source you trust.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from beffroi.analysis.moderation.backends.errors import BackendConfigurationError, require
from beffroi.analysis.moderation.backends.huggingface import set_threads
from beffroi.analysis.moderation.backends.labels import (
    LabelMap,
    LabelScoringDetector,
    file_digest,
    mapping_digest,
    with_overrides,
)

log = logging.getLogger(__name__)

#: Release checkpoints and the SHA-256 prefix torch hub names them by (their version).
RELEASES = {
    "original": "c1212f89",
    "unbiased": "c7548aa0",
    "multilingual": "0b549669",
    "original-small": "0e1d6498",
    "unbiased-small": "c8519128",
}

#: Detoxify's outputs (its standardized class names) → charter categories. ``toxicity`` is
#: Jigsaw's "rude, disrespectful or unreasonable" comment: an insult in the charter's terms.
#: ``sexual_explicit`` has no charter category; the identity columns of the ``unbiased``
#: model (``male``, ``muslim``…) say who is mentioned, not whether it is harmful: left out.
DETOXIFY_CATEGORIES: Mapping[str, tuple[str, ...]] = {
    "toxicity": ("insult",),
    "severe_toxicity": ("insult",),
    "obscene": ("insult",),
    "insult": ("insult",),
    "threat": ("threat",),
    "identity_attack": ("hate",),
}


class DetoxifyDetector(LabelScoringDetector):
    """A Detoxify model as a :class:`Detector`."""

    def __init__(
        self,
        model: str = "original",
        *,
        hf_config: str | None = None,
        label_map: Mapping[str, tuple[str, ...]] | None = None,
        device: str = "cpu",
        batch_size: int = 32,
        min_score: float = 0.01,
        threads: int | None = None,
        name: str | None = None,
    ) -> None:
        started = time.perf_counter()
        detoxify = require("detoxify", "Detoxify")
        set_threads(require("torch", "Detoxify"), threads)
        checkpoint: str | None = None
        if model in RELEASES:
            model_type, revision = model, RELEASES[model]
        else:
            path = Path(model).expanduser()
            if not path.is_file():
                raise BackendConfigurationError(
                    f"detoxify:{model}: neither a Detoxify model ({', '.join(RELEASES)}) nor "
                    "a checkpoint file on this machine."
                )
            checkpoint, model_type, revision = str(path), path.stem, file_digest([path])[:12]
        if hf_config is not None and not Path(hf_config).is_dir():
            raise BackendConfigurationError(f"detoxify: config={hf_config} is not a directory.")
        try:
            self._model: Any = detoxify.Detoxify(
                model_type=model_type,
                checkpoint=checkpoint,
                device=device,
                huggingface_config_path=hf_config,
            )
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise BackendConfigurationError(
                f"Cannot load the Detoxify model '{model}': {exc}"
            ) from exc
        self.labels: list[str] = list(self._model.class_names)
        self.mapping: LabelMap = {
            label: categories
            for label, categories in with_overrides(DETOXIFY_CATEGORIES, label_map).items()
            if label in self.labels
        }
        if not self.mapping:
            raise BackendConfigurationError(
                f"detoxify:{model}: none of its outputs ({', '.join(self.labels)}) maps to a "
                "charter category; add map=<output>:<category>."
            )
        self.batch_size = batch_size
        self.min_score = min_score
        self.model_name = name or f"detoxify-{model_type}"
        self.name = f"detoxify:{name or model_type}"
        self.version = f"{self.model_name}@{revision}+map.{mapping_digest(self.mapping)}"
        log.info(
            "moderation backend %s loaded (%s) in %.1f s",
            self.name,
            self.version,
            time.perf_counter() - started,
        )

    def __repr__(self) -> str:
        return f"<DetoxifyDetector {self.version}>"

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Each text's score per Detoxify output."""
        rows: list[dict[str, float]] = [{} for _ in texts]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            results = self._model.predict([texts[i] for i in chunk])
            for label, values in results.items():
                # Detoxify squeezes its output: a batch of one gives a number, not a list.
                column = values if isinstance(values, list) else [values]
                for index, value in zip(chunk, column, strict=True):
                    rows[index][str(label)] = float(value)
        return rows
