"""Trained models and embeddings live in the data directory's cache, or in BEFFROI_CACHE
(docs/deployment.md, "Caches")."""

from __future__ import annotations

from pathlib import Path

import pytest

from beffroi.config import cache_dir


def test_the_cache_is_in_the_data_directory_unless_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BEFFROI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BEFFROI_CACHE", raising=False)
    assert cache_dir() == (tmp_path / "home" / "cache").resolve()
    assert cache_dir().is_dir()
    monkeypatch.setenv("BEFFROI_CACHE", str(tmp_path / "shared"))
    assert cache_dir() == (tmp_path / "shared").resolve()
    assert cache_dir().is_dir()
    assert not (tmp_path / "home" / "cache" / "moderation").exists()


def test_models_prepare_leaves_the_built_in_models_in_the_cache() -> None:
    """``beffroi models prepare`` (run by ``make test`` while the checks run) trains or reads
    the built-in models; the classifier is then a file of the cache."""
    from click.testing import CliRunner

    from beffroi.cli import main

    result = CliRunner().invoke(main, ["models", "prepare"])
    assert result.exit_code == 0, result.output
    assert f"Built-in models ready in {cache_dir()}" in result.output
    assert "moderation classifier char+use-" in result.output
    assert list((cache_dir() / "moderation").glob("classifier-char-use-*.bin"))
