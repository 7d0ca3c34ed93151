"""Heavier moderation backends, chosen by configuration.

Each backend is a :class:`~beffroi.analysis.moderation.signals.Detector` built from one
specification string::

    hf:<local directory or hub name>[?category=hate&label=toxic,hateful&device=cpu&batch=32]
    detoxify:<original|unbiased|multilingual|original-small|unbiased-small|/path/model.ckpt>
    openai:<base URL>[?model=omni-moderation-latest]

``BEFFROI_MODERATION_BACKENDS`` holds any number of them, separated by ``;``, new lines or
commas. The API key of an ``openai:`` backend comes from ``BEFFROI_OPENAI_API_KEY`` (or the
variable named by ``api_key_env=``), never from the specification. torch, transformers and
detoxify (the ``beffroi[models]`` extra) are imported only when a backend that needs them is
built. The options of each kind are documented in ``docs/moderation.md``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from beffroi.analysis.moderation.backends.errors import (
    BackendAuthError,
    BackendConfigurationError,
    BackendError,
    BackendMalformedResponse,
    BackendNotInstalled,
    BackendQuotaExceeded,
    BackendRateLimited,
    BackendRequestError,
    BackendTransientError,
)
from beffroi.analysis.moderation.backends.spec import BackendSpec, Options, split_specs
from beffroi.analysis.moderation.signals import Detector

__all__ = [
    "API_KEY_VARIABLE",
    "ENV_VARIABLE",
    "BackendAuthError",
    "BackendConfigurationError",
    "BackendError",
    "BackendMalformedResponse",
    "BackendNotInstalled",
    "BackendQuotaExceeded",
    "BackendRateLimited",
    "BackendRequestError",
    "BackendSpec",
    "BackendTransientError",
    "backend_from_config",
    "backends_from_env",
]

ENV_VARIABLE = "BEFFROI_MODERATION_BACKENDS"
API_KEY_VARIABLE = "BEFFROI_OPENAI_API_KEY"

_COMMON = ("name", "map", "min_score", "batch")
_HF_OPTIONS = (
    *_COMMON,
    "category",
    "label",
    "labels",
    "device",
    "max_length",
    "activation",
    "revision",
    "local_files_only",
    "threads",
)
_DETOXIFY_OPTIONS = (*_COMMON, "config", "device", "threads")
_OPENAI_OPTIONS = (
    *_COMMON,
    "model",
    "api_key_env",
    "timeout",
    "retries",
    "backoff",
    "max_wait",
)


def _threads(options: Options) -> int | None:
    return options.integer("threads", 0) or None


def backend_from_config(spec: str, *, env: Mapping[str, str] | None = None) -> Detector:
    """Build the detector one specification describes (``env`` holds the API keys).

    Raises :class:`BackendConfigurationError` (or :class:`BackendNotInstalled`) with a
    sentence saying what to fix.
    """
    parsed = BackendSpec.parse(spec)
    environment = os.environ if env is None else env
    if parsed.kind == "hf":
        from beffroi.analysis.moderation.backends.huggingface import HuggingFaceDetector

        options = Options(parsed, _HF_OPTIONS)
        positive = options.listing("label") or options.listing("labels")
        return HuggingFaceDetector(
            parsed.target,
            category=options.category(),
            labels=positive,
            label_map=options.label_map(),
            device=options.text("device", "cpu") or "cpu",
            batch_size=options.integer("batch", 32),
            max_length=options.integer("max_length", 512),
            min_score=options.number("min_score", 0.01, high=1.0),
            activation=options.choice("activation", ("sigmoid", "softmax")),
            revision=options.text("revision"),
            local_files_only=options.flag("local_files_only", False),
            threads=_threads(options),
            name=options.text("name"),
        )
    if parsed.kind == "detoxify":
        from beffroi.analysis.moderation.backends.detoxify_backend import DetoxifyDetector

        options = Options(parsed, _DETOXIFY_OPTIONS)
        return DetoxifyDetector(
            parsed.target,
            hf_config=options.text("config"),
            label_map=options.label_map(),
            device=options.text("device", "cpu") or "cpu",
            batch_size=options.integer("batch", 32),
            min_score=options.number("min_score", 0.01, high=1.0),
            threads=_threads(options),
            name=options.text("name"),
        )
    from beffroi.analysis.moderation.backends.openai_moderation import (
        DEFAULT_MODEL,
        OpenAIModerationDetector,
    )

    options = Options(parsed, _OPENAI_OPTIONS)
    key_variable = options.text("api_key_env", API_KEY_VARIABLE) or API_KEY_VARIABLE
    return OpenAIModerationDetector(
        parsed.target,
        model=options.text("model", DEFAULT_MODEL) or DEFAULT_MODEL,
        api_key=environment.get(key_variable) or None,
        label_map=options.label_map(),
        batch_size=options.integer("batch", 32),
        timeout=options.number("timeout", 30.0, low=0.1, high=600.0),
        max_retries=options.integer("retries", 2, minimum=0),
        backoff=options.number("backoff", 0.5, high=60.0),
        max_wait=options.number("max_wait", 10.0, high=600.0),
        min_score=options.number("min_score", 0.01, high=1.0),
        name=options.text("name"),
    )


def backends_from_env(env: Mapping[str, str] | None = None) -> list[Detector]:
    """The detectors ``BEFFROI_MODERATION_BACKENDS`` configures; none when it is unset."""
    environment = os.environ if env is None else env
    return [
        backend_from_config(spec, env=environment)
        for spec in split_specs(environment.get(ENV_VARIABLE, ""))
    ]
