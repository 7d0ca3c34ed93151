"""The detectors an organization's items go through: the rules of a charter version, the
organization's classifier, the configured heavier backends. Built once and cached, rebuilt
when what they depend on changes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from beffroi.analysis.moderation.signals import Detector, Signal
from beffroi.analysis.text_bound import analysed_text
from beffroi.organizations.models import Organization

#: Rule edits and a newly activated classifier are picked up within this many seconds.
CACHE_SECONDS = 30.0

_lock = threading.Lock()
_cache: dict[tuple[str, int], tuple[tuple[Any, ...], float, list[Detector]]] = {}
_backends: list[Detector] | None = None


def _cached(
    slot: tuple[str, int], build: Callable[[], tuple[tuple[Any, ...], list[Detector]]]
) -> list[Detector]:
    now = time.monotonic()
    with _lock:
        cached = _cache.get(slot)
        if cached is not None and now - cached[1] < CACHE_SECONDS:
            return cached[2]
    key, detectors = build()
    with _lock:
        cached = _cache.get(slot)
        if cached is not None and cached[0] == key:
            detectors = cached[2]  # unchanged: keep the instance already warmed up
        _cache[slot] = (key, now, detectors)
    return detectors


def _heavier_backends() -> list[Detector]:
    global _backends
    if _backends is None:
        from beffroi.analysis.moderation.backends import backends_from_env

        _backends = list(backends_from_env())
    return _backends


def model_detectors(organization: Organization) -> list[Detector]:
    """The organization's active classifier (or the default one) and the heavier backends."""

    def build() -> tuple[tuple[Any, ...], list[Detector]]:
        from beffroi.analysis.moderation.classifier import (
            ModerationClassifier,
            default_classifier,
        )
        from beffroi.moderation.models import ClassifierVersion

        active = (
            ClassifierVersion.objects.filter(organization=organization, active=True)
            .only("pk")
            .first()
        )
        if active is None:
            return ("default",), [default_classifier(), *_heavier_backends()]
        model = bytes(ClassifierVersion.objects.values_list("model", flat=True).get(pk=active.pk))
        return ("org", active.pk), [ModerationClassifier.from_bytes(model), *_heavier_backends()]

    return _cached(("models", organization.pk), build)


def rule_detectors(version_key: int) -> list[Detector]:
    """The rule detector of one charter version (default lists and the organization's own)."""

    def build() -> tuple[tuple[Any, ...], list[Detector]]:
        from beffroi.analysis.moderation.rules import RuleDetector
        from beffroi.moderation.policy import rule_specs_for

        key, specs = rule_specs_for(version_key)
        return key, [RuleDetector(specs)]

    return _cached(("rules", version_key), build)


def forget(organization: Organization | None = None) -> None:
    """Drop cached detectors (after a rule edit, a retraining, a rollback)."""
    with _lock:
        if organization is None:
            _cache.clear()
        else:
            _cache.pop(("models", organization.pk), None)


def run(detectors: Sequence[Detector], texts: Sequence[str]) -> list[list[Signal]]:
    """Every detector's signals for each text, merged per text. Detectors read each text up
    to the analysis bound (its head and tail beyond), plugins' detectors included."""
    merged: list[list[Signal]] = [[] for _ in texts]
    if not texts:
        return merged
    texts = [analysed_text(text) for text in texts]
    for detector in detectors:
        for bucket, signals in zip(merged, detector.score(texts), strict=True):
            bucket.extend(signals)
    return merged
