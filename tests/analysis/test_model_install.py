"""``beffroi models install``: the catalogue, downloads from a loopback hub checked file by
file, the manifest, a second install that downloads nothing, the failures a person must be
able to read, and the backend that the printed specification builds.

The hub is ``tests/fakes/hf_hub_server.py``, serving a tiny BERT the tests build (the one of
``test_backends.py``); nothing reaches the real hub. The tests that download or load a model
skip without torch, transformers and huggingface_hub (the ``beffroi[models]`` extra).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from beffroi.analysis.moderation import model_catalog as mc
from beffroi.analysis.moderation.backends import backend_from_config
from beffroi.analysis.moderation.backends.spec import BackendSpec
from beffroi.analysis.moderation.evaluate import PositiveLabels, read_labelled_rows
from beffroi.analysis.moderation.signals import CATEGORIES
from tests.analysis.test_backends import JIGSAW_HEAD, build_tiny_bert
from tests.fakes.hf_hub_server import FakeHubServer

REPO = "beffroi-tests/tiny-hate-bert"
COMMIT = "3f1c2b7d9e0a4c6b8d2e1f3a5b7c9d0e2f4a6b8c"
NAME = "tiny-hate"
# Labels as the tiny model names them, one the model does not have (left out of the spec).
LABEL_MAP = {
    "identity_hate": "hate",
    "threat": ["threat"],
    "toxic": "insult",
    "LABEL_1": "hate",
}

# --- the catalogue, without any model ------------------------------------------------------------


def test_the_built_in_catalogue_is_short_pinned_and_covers_french_english_arabic() -> None:
    entries = mc.catalogue({})
    assert 3 <= len(entries) <= 4
    covered: set[str] = set()
    for entry in entries:
        assert len(entry.revision) == 40 and int(entry.revision, 16) >= 0
        assert entry.licence and entry.size and entry.languages
        assert entry.files and "config.json" in {f.name for f in entry.files}
        assert any(entry.label_map.values())
        for categories in entry.label_map.values():
            assert set(categories) <= set(CATEGORIES)
        covered.update(entry.languages)
    assert {"fr", "en", "ar"} <= covered
    # The weights of the models stored in safetensors are pinned by their SHA-256.
    for entry in entries:
        for file in entry.files:
            if file.name.endswith(".safetensors"):
                assert file.sha256 is not None and len(file.sha256) == 64


def write_catalogue(path: Path, *models: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"models": list(models)}), encoding="utf-8")
    return path


def entry(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": NAME,
        "repo": REPO,
        "revision": COMMIT,
        "licence": "MIT",
        "size": "1 MB",
        "languages": ["en"],
        "map": LABEL_MAP,
        "files": {"config.json": "0" * 64},
    }
    return {**base, **fields}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "Tiny Hate"}, "lower-case letters"),
        ({"repo": "no-owner"}, "is not 'owner/name'"),
        ({"files": {"../../etc/passwd": "0" * 64}}, "not a plain file name"),
        ({"files": {".cache/x": "0" * 64}}, "not a plain file name"),
        ({"files": {"config.json": "abc"}}, "not 64 hex digits"),
        ({"files": {"config.json": None}, "revision": "main"}, "full commit hash"),
        ({"map": {"toxic": "nudity"}}, "Unknown charter category 'nudity'"),
        ({"files": {}}, "'files' must map"),
    ],
)
def test_a_wrong_catalogue_file_says_what_to_fix(
    tmp_path: Path, fields: dict[str, Any], message: str
) -> None:
    path = write_catalogue(tmp_path / "catalogue.json", entry(**fields))
    with pytest.raises(mc.CatalogueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        mc.catalogue({mc.CATALOGUE_VARIABLE: str(path)})
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(mc.CatalogueError, match="is not JSON"):
        mc.catalogue({mc.CATALOGUE_VARIABLE: str(broken)})


def test_a_custom_entry_replaces_a_built_in_one_of_the_same_name(tmp_path: Path) -> None:
    built_in = mc.catalogue({})[0]
    path = write_catalogue(tmp_path / "c.json", entry(name=built_in.name), entry())
    entries = {e.name: e for e in mc.catalogue({mc.CATALOGUE_VARIABLE: str(path)})}
    assert entries[built_in.name].repo == REPO
    assert entries[built_in.name].source == str(path)
    assert NAME in entries and len(entries) == len(mc.BUILT_IN) + 1


def test_an_unknown_name_lists_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(mc.CATALOGUE_VARIABLE, raising=False)
    with pytest.raises(mc.UnknownModel, match="No model 'nope' in the catalogue; known: "):
        mc.install("nope", Path("/nonexistent"))


def test_the_check_set_is_balanced_by_language_and_label() -> None:
    rows = read_labelled_rows(mc.SMOKE_CHECK, "text", "label", PositiveLabels.parse("harmful"))
    assert 36 <= len(rows) <= 48
    assert sum(row.positive for row in rows) * 2 == len(rows)
    text = mc.SMOKE_CHECK.read_text(encoding="utf-8")
    for language in ("fr", "en", "ar"):
        assert text.count(f"\n{language},harmful,") == text.count(f"\n{language},ordinary,") >= 6


# --- a loopback hub serving a tiny model --------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch", reason="installing a model needs beffroi[models]")
    transformers = pytest.importorskip("transformers", reason="needs beffroi[models]")
    pytest.importorskip("huggingface_hub", reason="needs beffroi[models]")
    directory = tmp_path_factory.mktemp("published") / "tiny"
    build_tiny_bert(torch, transformers, directory, JIGSAW_HEAD, multi_label=True)
    return directory


@dataclass
class Setup:
    hub: FakeHubServer
    models_dir: Path
    hashes: dict[str, str]
    catalogue: Path


@pytest.fixture
def setup(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    with FakeHubServer() as hub:
        hashes = hub.publish(REPO, COMMIT, tiny_model)
        # vocab.txt without a hash: the pinned commit vouches for it (as for the hub's
        # git-stored files in the built-in catalogue), and its hash is recorded at install.
        files: dict[str, str | None] = {**hashes, "vocab.txt": None}
        catalogue = write_catalogue(tmp_path / "catalogue.json", entry(files=files))
        monkeypatch.setenv(mc.CATALOGUE_VARIABLE, str(catalogue))
        monkeypatch.setenv(mc.ENDPOINT_VARIABLE, hub.base_url)
        monkeypatch.setenv("BEFFROI_HOME", str(tmp_path / "home"))
        monkeypatch.delenv("HF_TOKEN", raising=False)
        yield Setup(hub, tmp_path / "home" / "models", hashes, catalogue)


def leftovers(models_dir: Path) -> list[str]:
    return sorted(p.name for p in models_dir.iterdir()) if models_dir.exists() else []


def test_install_verifies_every_file_writes_the_manifest_and_is_idempotent(setup: Setup) -> None:
    reports: list[tuple[str, int, int | None]] = []
    model = mc.install(NAME, setup.models_dir, progress=lambda *r: reports.append(r))

    assert model.downloaded and model.directory == setup.models_dir / NAME
    assert leftovers(setup.models_dir) == [NAME]  # no temporary directory left beside it
    on_disk = sorted(p.name for p in model.directory.iterdir())
    assert on_disk == sorted([*setup.hashes, mc.MANIFEST])  # huggingface_hub's .cache removed
    manifest = json.loads((model.directory / mc.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["name"] == NAME and manifest["repo"] == REPO
    assert manifest["revision"] == COMMIT and manifest["files"] == setup.hashes
    assert manifest["installed_at"].endswith("+00:00")
    assert manifest["endpoint"] == setup.hub.base_url
    # huggingface_hub asked each file's metadata (HEAD), then fetched it once, at the commit.
    fetched = sorted(r.path for r in setup.hub.downloads())
    assert fetched == sorted(f"/{REPO}/resolve/{COMMIT}/{name}" for name in setup.hashes)
    assert setup.hub.requests_to("HEAD", f"/{REPO}/resolve/{COMMIT}/")
    # Progress: each file from nothing to its size.
    for name in setup.hashes:
        mine = [r for r in reports if r[0] == name]
        size = (model.directory / name).stat().st_size
        assert mine[0] == (name, 0, None) and mine[-1] == (name, size, size)
    assert mc.installed(setup.models_dir) == [replace(model, downloaded=False)]

    asked = len(setup.hub.requests)
    again = mc.install(NAME, setup.models_dir)
    assert not again.downloaded and again.files == model.files
    assert len(setup.hub.requests) == asked  # not even a HEAD


def test_a_damaged_install_is_downloaded_again(setup: Setup) -> None:
    model = mc.install(NAME, setup.models_dir)
    (model.directory / "config.json").write_text("{}", encoding="utf-8")
    repaired = mc.install(NAME, setup.models_dir)
    assert repaired.downloaded
    assert mc._sha256(repaired.directory / "config.json") == setup.hashes["config.json"]
    assert leftovers(setup.models_dir) == [NAME]


def test_a_corrupted_file_on_the_server_fails_clearly_and_leaves_nothing(setup: Setup) -> None:
    setup.hub.corrupt(REPO, "model.safetensors", b"tampered weights")
    with pytest.raises(mc.HashMismatch) as caught:
        mc.install(NAME, setup.models_dir)
    message = str(caught.value)
    assert "model.safetensors" in message and setup.hashes["model.safetensors"] in message
    assert hashlib.sha256(b"tampered weights").hexdigest() in message
    assert "\n" not in message
    assert leftovers(setup.models_dir) == []


def test_a_file_without_hash_must_come_from_the_pinned_commit(setup: Setup) -> None:
    setup.hub.answer_commit = "b" * 40
    with pytest.raises(mc.HashMismatch, match=f"vocab.txt of {NAME} came from commit b{{40}}"):
        mc.install(NAME, setup.models_dir)
    assert leftovers(setup.models_dir) == []


def test_a_refused_address_is_one_clear_error_and_the_hub_is_never_asked(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the tests' allowance, beffroi.egress refuses the loopback like any internal host.
    monkeypatch.setenv("BEFFROI_ALLOWED_INTERNAL_HOSTS", "")
    with pytest.raises(mc.DownloadFailed) as caught:
        mc.install(NAME, setup.models_dir)
    assert "could not be reached" in str(caught.value)
    assert "BEFFROI_ALLOWED_INTERNAL_HOSTS" in str(caught.value)
    assert setup.hub.requests == []
    assert leftovers(setup.models_dir) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"repo": "beffroi-tests/absent"}, "has no repository beffroi-tests/absent"),
        ({"revision": "0" * 40}, "has no revision"),
        ({"files": {"missing.bin": "0" * 64}}, "has no file missing.bin"),
    ],
)
def test_what_the_hub_does_not_have_is_named(
    setup: Setup, fields: dict[str, Any], message: str
) -> None:
    write_catalogue(setup.catalogue, entry(**fields))
    with pytest.raises(mc.DownloadFailed, match=message):
        mc.install(NAME, setup.models_dir)
    assert leftovers(setup.models_dir) == []


def test_without_huggingface_hub_the_extra_is_named(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(mc.ModelsExtraMissing, match=r"install beffroi\[models\]"):
        mc.install(NAME, setup.models_dir)


def test_the_backend_specification_builds_a_working_detector_offline(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = mc.install(NAME, setup.models_dir)
    spec = mc.backend_spec(model)
    parsed = BackendSpec.parse(spec)
    assert (parsed.kind, parsed.target) == ("hf", str(model.directory))
    # The model has no LABEL_1: the catalogue's map keeps the labels it has.
    assert parsed.options == {
        "map": "identity_hate:hate,threat:threat,toxic:insult",
        "local_files_only": "true",
    }
    import huggingface_hub.constants

    # Loading never reaches a hub: offline mode changes nothing, and the fake sees no request.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    asked = len(setup.hub.requests)
    detector = backend_from_config(spec)
    hateful, threat, calm = detector.score(["they are vermin", "i will kill you", "hello"])
    assert max(hateful, key=lambda s: s.score).category == "hate"
    assert {s.category for s in threat} >= {"threat"}
    assert all(s.score < 0.5 for s in calm)
    assert len(setup.hub.requests) == asked


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture
def cli() -> Any:
    from beffroi.cli import main

    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(main, list(args))

    return invoke


def test_models_list_install_and_remove(
    setup: Setup, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = cli("models", "list")
    assert listed.exit_code == 0, listed.output
    line = next(line for line in listed.output.splitlines() if line.startswith(NAME))
    assert "MIT" in line and "1 MB" in line and "not installed" in line
    assert "textdetox-xlmr-large" in listed.output  # the built-in entries stay listed

    installed = cli("models", "install", NAME)
    assert installed.exit_code == 0, installed.output
    spec = next(line for line in installed.output.splitlines() if line.startswith("hf:"))
    assert spec == mc.backend_spec(mc.installed(setup.models_dir)[0])
    assert "Add to BEFFROI_MODERATION_BACKENDS:" in installed.output
    check = next(line for line in installed.output.splitlines() if line.startswith("Check on"))
    assert "42 built-in sentences" in check
    assert "precision" in check and "recall" in check and "F1" in check

    line = next(line for line in cli("models", "list").output.splitlines() if line.startswith(NAME))
    assert "installed" in line and "not installed" not in line

    quiet = cli("models", "install", NAME, "--no-eval")
    assert quiet.exit_code == 0 and "already installed and verified" in quiet.output
    assert "Check on" not in quiet.output

    # Installed from a catalogue file no longer configured: still listed, and removable.
    monkeypatch.delenv(mc.CATALOGUE_VARIABLE)
    line = next(line for line in cli("models", "list").output.splitlines() if line.startswith(NAME))
    assert "installed (not in the catalogue)" in line

    removed = cli("models", "remove", NAME)
    assert removed.exit_code == 0 and not (setup.models_dir / NAME).exists()
    again = cli("models", "remove", NAME)
    assert again.exit_code == 1
    assert again.output.strip().splitlines() == [
        f"Error: No model '{NAME}' is installed in {setup.models_dir}."
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("models", "install", "nope"), "Error: No model 'nope' in the catalogue; known: "),
        (("models", "install", NAME), "SHA-256"),
    ],
)
def test_install_errors_are_one_line_never_a_traceback(
    setup: Setup, cli: Any, arguments: tuple[str, ...], message: str
) -> None:
    setup.hub.corrupt(REPO, "config.json")
    result = cli(*arguments)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0]
    assert "Traceback" not in result.output and result.exception.__class__ is SystemExit


def test_eval_moderation_scores_with_the_installed_backend(
    setup: Setup, cli: Any, tmp_path: Path
) -> None:
    model = mc.install(NAME, setup.models_dir)
    labelled = tmp_path / "labelled.csv"
    labelled.write_text(
        "text,label\nthey are vermin,harmful\ni will kill you,harmful\n"
        "thank you for the market,ordinary\nwhat a nice day,ordinary\n",
        encoding="utf-8",
    )
    common = ("eval", "moderation", "--input", str(labelled), "--text-column", "text")
    result = cli(
        *common,
        "--label-column",
        "label",
        "--positive",
        "harmful",
        "--detectors",
        "rules",
        "--backend",
        mc.backend_spec(model),
        "--json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert set(report["detectors"]) == {"rules", f"hf:{NAME}"}
    assert report["n"] == 4 and report["recall"] == 1.0

    benign = cli(*common, "--benign", "--detectors", "rules", "--backend", mc.backend_spec(model))
    assert benign.exit_code == 0, benign.output

    # A wrong specification is refused before any detector loads.
    wrong = cli(*common, "--benign", "--backend", "hf:/nowhere?categroy=hate")
    assert wrong.exit_code == 1 and "unknown option(s) categroy" in wrong.output
