"""Recommended heavier moderation models, installed from the Hugging Face hub in one step.

A short catalogue of multilingual text-classification models that suit a town hall's comments
(French, English, Arabic), each pinned to one commit of its hub repository, with its licence,
its approximate size, the languages it was trained on, how its labels map to the charter's
categories (the ``map=`` option of an ``hf:`` backend) and the SHA-256 of every file it needs.

:func:`install` downloads those files with huggingface_hub (``hf_hub_download`` at the pinned
revision, from ``BEFFROI_HF_ENDPOINT`` or the hub's own default) into a temporary directory
beside ``models_dir/<name>/``, checks each file's SHA-256 against the catalogue, writes a
manifest (:data:`MANIFEST`) and renames the directory into place; a file whose hash differs
deletes the whole download. An installed model whose files still match its manifest is not
downloaded again. :func:`backend_spec` gives the ``hf:<dir>?map=…`` specification to put in
``BEFFROI_MODERATION_BACKENDS``.

``BEFFROI_MODEL_CATALOGUE`` names a JSON file of further entries (``{"models": [...]}``, each
as :data:`BUILT_IN` writes them), which replace a built-in entry of the same name: a site with
its own mirror pins what it serves there, and the tests list a tiny model of their own.

Downloads go through huggingface_hub's HTTP client, which :mod:`beffroi.egress` checks like
every other outbound connection (a mirror inside the organization's network must be listed in
``BEFFROI_ALLOWED_INTERNAL_HOSTS``); Xet transfers, which a native extension makes outside
Python's HTTP, are turned off for these downloads so that nothing escapes the check.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any, cast
from urllib.parse import quote, urlsplit

from beffroi import config, egress
from beffroi.analysis.moderation.backends.errors import BackendConfigurationError
from beffroi.analysis.moderation.backends.labels import (
    LabelMap,
    check_category,
    normalize_label,
    parse_label_map,
)
from beffroi.analysis.moderation.backends.spec import BackendSpec
from beffroi.analysis.moderation.evaluate import (
    BinaryMetrics,
    PositiveLabels,
    binary_metrics,
    combined_scores,
    read_labelled_rows,
)
from beffroi.analysis.moderation.signals import Detector

__all__ = [
    "BUILT_IN",
    "CATALOGUE_VARIABLE",
    "ENDPOINT_VARIABLE",
    "MANIFEST",
    "SMOKE_CHECK",
    "CatalogueEntry",
    "CatalogueError",
    "CatalogueFile",
    "DownloadFailed",
    "HashMismatch",
    "InstalledModel",
    "ModelInstallError",
    "ModelsExtraMissing",
    "UnknownModel",
    "backend_spec",
    "catalogue",
    "find",
    "install",
    "installed",
    "models_directory",
    "remove",
    "smoke_check",
]

CATALOGUE_VARIABLE = "BEFFROI_MODEL_CATALOGUE"
ENDPOINT_VARIABLE = "BEFFROI_HF_ENDPOINT"
#: What an installed model's directory holds besides the model's files.
MANIFEST = "beffroi-model.json"
#: About forty short messages to a town hall (fr, en, ar), half hateful or threatening.
SMOKE_CHECK = Path(__file__).parent / "data" / "smoke_check.csv"

#: ``(file name, bytes done, bytes in all or None)``, called as a download goes.
ProgressCallback = Callable[[str, int, int | None], None]

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

# The recommended models. Revisions and hashes were read from the hub's pages (the LFS pointer
# of each large file names its SHA-256) and could not be checked from this project's machines,
# which reach no model hub: a wrong value fails the install with both hashes, never silently.
# ``null`` hashes are small files the hub keeps in git rather than LFS, whose SHA-256 it does
# not publish: they are fetched at the pinned commit (git fixes their content), the commit the
# hub says it served is checked, and their hash is recorded in the manifest at install.
# Label names the model does not have are left out of the specification (see backend_spec).
BUILT_IN: tuple[Mapping[str, Any], ...] = (
    {
        "name": "textdetox-xlmr-large",
        "repo": "textdetox/xlmr-large-toxicity-classifier",
        "revision": "e0a9096b4db1e8edb782f3968f1337a0aa0ca6a2",
        "licence": "OpenRAIL++",
        "size": "1.1 GB",
        "languages": ["ar", "en", "de", "es", "ru", "uk", "am", "zh", "hi"],
        "description": "XLM-RoBERTa large fine-tuned for toxicity (TextDetox 2024); French "
        "only through XLM-R's cross-lingual transfer.",
        "map": {"toxic": ["insult"], "LABEL_1": ["insult"]},
        "files": {
            "config.json": None,
            "model.safetensors": "829a9d93b6ed9f0d6664a4dc454fdbc5fde3cb1ab9229a555e0537ca8bbaea55",
            "tokenizer.json": "d6f76fe13d42f80dcee0cb86a1aeb5f14f8909bb8a8782f7a4a4ad76697ef164",
            "sentencepiece.bpe.model": (
                "cfc8146abe2a0488e9e2a0c56de7952f7c11ab059eca145a0a727afce0db2865"
            ),
        },
    },
    {
        "name": "unitary-xlmr-multilingual",
        "repo": "unitary/multilingual-toxic-xlm-roberta",
        "revision": "a3d4e66839269e45c5e8491dfa55a53fdaedcdbc",
        "licence": "Apache-2.0",
        "size": "1.1 GB",
        "languages": ["en", "fr", "es", "it", "pt", "ru", "tr"],
        "description": "Detoxify's multilingual XLM-RoBERTa (Jigsaw multilingual toxicity), "
        "one toxicity score.",
        "map": {"toxic": ["insult"], "toxicity": ["insult"], "LABEL_0": ["insult"]},
        "files": {
            "config.json": None,
            "model.safetensors": "f396d157e1f8fbafa537745cf37fad9f41569eb465d310ce4b01635fa3ea6996",
            "sentencepiece.bpe.model": None,
            "special_tokens_map.json": None,
            "tokenizer_config.json": None,
        },
    },
    {
        "name": "dehatebert-arabic",
        "repo": "Hate-speech-CNERG/dehatebert-mono-arabic",
        "revision": "abcedf074371ad7f0f7d833b86ac4d4606cc6b4b",
        "licence": "Apache-2.0",
        "size": "670 MB",
        "languages": ["ar"],
        "description": "Multilingual BERT fine-tuned on Arabic hate speech (DE-LIMIT); "
        "weights as a PyTorch pickle, loaded by transformers with weights only.",
        "map": {"HATE": ["hate"], "LABEL_1": ["hate"]},
        "files": {
            "config.json": None,
            "pytorch_model.bin": None,
            "special_tokens_map.json": None,
            "tokenizer_config.json": None,
            "vocab.txt": None,
        },
    },
)


# --- errors ----------------------------------------------------------------------------------


class ModelInstallError(Exception):
    """Base of what installing a model raises; the message is one line meant for a person."""


class UnknownModel(ModelInstallError):
    """The name is in no catalogue (or no model of that name is installed)."""


class CatalogueError(ModelInstallError):
    """``BEFFROI_MODEL_CATALOGUE`` (or a built-in entry) is not a valid catalogue."""


class ModelsExtraMissing(ModelInstallError):
    """huggingface_hub (installed with the ``beffroi[models]`` extra) is missing."""


class DownloadFailed(ModelInstallError):
    """The hub could not be reached, or refused, or has no such repository, revision or file."""


class HashMismatch(ModelInstallError):
    """A downloaded file is not the one the catalogue pins; the download was deleted."""


# --- the catalogue ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueFile:
    """One file of a model; ``sha256`` is None for a git-stored file the hub publishes no hash
    of (then its pinned commit vouches for it)."""

    name: str
    sha256: str | None


@dataclass(frozen=True)
class CatalogueEntry:
    name: str
    repo: str
    revision: str
    licence: str
    size: str
    languages: tuple[str, ...]
    label_map: Mapping[str, tuple[str, ...]]
    files: tuple[CatalogueFile, ...]
    description: str = ""
    #: ``built-in``, or the catalogue file the entry comes from.
    source: str = "built-in"


def _text(item: Mapping[str, Any], key: str, where: str, *, default: str | None = None) -> str:
    value = item.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f"{where}: '{key}' must be a non-empty string.")
    return value.strip()


def _file_name(name: object, where: str) -> str:
    # Relative names inside the model directory only: never '..', never a hidden or
    # absolute path, never the manifest itself.
    if not isinstance(name, str) or not name.strip():
        raise CatalogueError(f"{where}: a file name must be a non-empty string.")
    path = PurePosixPath(name)
    if (
        path.is_absolute()
        or "\\" in name
        or any(part in ("", ".", "..") or part.startswith(".") for part in name.split("/"))
        or name == MANIFEST
    ):
        raise CatalogueError(f"{where}: '{name}' is not a plain file name inside the model.")
    return name


def _categories(value: object, label: str, where: str) -> tuple[str, ...]:
    names = value.split("|") if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise CatalogueError(f"{where}: map '{label}' must be a category or a list of them.")
    wanted = [n.strip() for n in names if n.strip()]
    if wanted in ([], ["-"], ["none"]):
        return ()
    try:
        return tuple(check_category(n) for n in wanted)
    except BackendConfigurationError as error:
        raise CatalogueError(f"{where}: {error}") from error


def _entry(item: object, source: str) -> CatalogueEntry:
    """One catalogue entry, checked (built-in entries go through the same checks)."""
    if not isinstance(item, Mapping):
        raise CatalogueError(f"{source}: each model must be a JSON object.")
    name = _text(item, "name", source)
    where = f"{source}, model '{name}'"
    if not _NAME.match(name):
        raise CatalogueError(f"{where}: the name must be lower-case letters, digits, '.-_'.")
    repo = _text(item, "repo", where)
    if not _REPO.match(repo):
        raise CatalogueError(f"{where}: repo '{repo}' is not 'owner/name'.")
    revision = _text(item, "revision", where)
    files = item.get("files")
    if not isinstance(files, Mapping) or not files:
        raise CatalogueError(f"{where}: 'files' must map each file name to its SHA-256.")
    pinned: list[CatalogueFile] = []
    for file_name, digest in files.items():
        checked = _file_name(file_name, where)
        if digest is not None and (
            not isinstance(digest, str) or not _SHA256.match(digest.lower())
        ):
            raise CatalogueError(f"{where}: the SHA-256 of {checked} is not 64 hex digits.")
        pinned.append(CatalogueFile(checked, digest.lower() if digest is not None else None))
    if any(f.sha256 is None for f in pinned) and not _COMMIT.match(revision):
        # Without a hash, only an immutable commit says which content is wanted.
        raise CatalogueError(
            f"{where}: a file without SHA-256 needs the revision as a full commit hash."
        )
    raw_map = item.get("map", {})
    if not isinstance(raw_map, Mapping):
        raise CatalogueError(f"{where}: 'map' must map labels to categories.")
    label_map = {str(k): _categories(v, str(k), where) for k, v in raw_map.items()}
    languages = item.get("languages", [])
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        raise CatalogueError(f"{where}: 'languages' must be a list of language codes.")
    return CatalogueEntry(
        name=name,
        repo=repo,
        revision=revision,
        licence=_text(item, "licence", where, default=item.get("license")),
        size=_text(item, "size", where, default="?"),
        languages=tuple(languages),
        label_map=label_map,
        files=tuple(pinned),
        description=str(item.get("description") or ""),
        source=source,
    )


def _custom_entries(path: Path) -> list[CatalogueEntry]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CatalogueError(
            f"{CATALOGUE_VARIABLE}: cannot read {path} ({error.strerror or error})."
        ) from error
    except ValueError as error:
        raise CatalogueError(f"{CATALOGUE_VARIABLE}: {path} is not JSON ({error}).") from error
    models = data.get("models") if isinstance(data, dict) else data
    if not isinstance(models, list):
        raise CatalogueError(f'{path}: expected {{"models": [...]}}.')
    return [_entry(item, str(path)) for item in models]


def catalogue(env: Mapping[str, str] | None = None) -> list[CatalogueEntry]:
    """The built-in entries, then those of ``BEFFROI_MODEL_CATALOGUE`` (replacing a built-in
    entry of the same name)."""
    environment = os.environ if env is None else env
    entries = {e.name: e for e in (_entry(item, "built-in") for item in BUILT_IN)}
    custom = environment.get(CATALOGUE_VARIABLE, "").strip()
    if custom:
        for entry in _custom_entries(Path(custom).expanduser()):
            entries[entry.name] = entry
    return list(entries.values())


def find(name: str, env: Mapping[str, str] | None = None) -> CatalogueEntry:
    """The catalogue entry called ``name``, or :class:`UnknownModel` naming the known ones."""
    entries = catalogue(env)
    for entry in entries:
        if entry.name == name:
            return entry
    known = ", ".join(entry.name for entry in entries)
    raise UnknownModel(f"No model '{name}' in the catalogue; known: {known}.")


def models_directory() -> Path:
    """Where ``beffroi models`` installs: ``<BEFFROI_HOME>/models``."""
    return config.home() / "models"


# --- installed models ------------------------------------------------------------------------


@dataclass(frozen=True)
class InstalledModel:
    name: str
    repo: str
    revision: str
    directory: Path
    #: File name → SHA-256, as verified at install.
    files: Mapping[str, str]
    installed_at: str
    licence: str
    label_map: Mapping[str, tuple[str, ...]]
    #: Whether the call that returned it downloaded the files (False: already installed).
    downloaded: bool = False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _read_manifest(directory: Path) -> InstalledModel | None:
    try:
        data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        files = {str(k): str(v) for k, v in dict(data["files"]).items()}
        label_map = {str(k): tuple(str(c) for c in v) for k, v in dict(data["map"]).items()}
        return InstalledModel(
            name=str(data["name"]),
            repo=str(data["repo"]),
            revision=str(data["revision"]),
            directory=directory,
            files=files,
            installed_at=str(data["installed_at"]),
            licence=str(data.get("licence", "")),
            label_map=label_map,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def installed(models_dir: Path) -> list[InstalledModel]:
    """The models installed in ``models_dir`` (the directories holding a readable manifest)."""
    if not models_dir.is_dir():
        return []
    found = []
    for child in sorted(models_dir.iterdir()):
        if child.is_dir() and not child.name.startswith("."):
            model = _read_manifest(child)
            if model is not None:
                found.append(model)
    return found


def _still_verified(model: InstalledModel, entry: CatalogueEntry) -> bool:
    """Whether ``model`` is ``entry``'s revision with every file intact (hashed again)."""
    if (model.repo, model.revision) != (entry.repo, entry.revision):
        return False
    for file in entry.files:
        recorded = model.files.get(file.name)
        if recorded is None or (file.sha256 is not None and recorded != file.sha256):
            return False
        path = model.directory / file.name
        if not path.is_file() or _sha256(path) != recorded:
            return False
    return True


def _set_aside(directory: Path) -> Path:
    """Rename ``directory`` out of the way (atomic), to delete it afterwards."""
    aside = directory.with_name(f".removing-{directory.name}-{uuid.uuid4().hex[:8]}")
    os.replace(directory, aside)
    return aside


def remove(name: str, models_dir: Path) -> bool:
    """Delete the installed model ``name``; False when none of that name is installed (a
    directory without a manifest is not ours and is left alone)."""
    if not _NAME.match(name):
        return False
    target = models_dir / name
    if _read_manifest(target) is None:
        return False
    shutil.rmtree(_set_aside(target))
    return True


# --- downloading -----------------------------------------------------------------------------


def _hub() -> ModuleType:
    try:
        import huggingface_hub
        import huggingface_hub.constants  # submodules used below, whatever the package loads
        import huggingface_hub.utils
    except ImportError as error:
        raise ModelsExtraMissing(
            "Installing a model needs the Python package 'huggingface_hub', which is not "
            "installed: install beffroi[models] (pip install 'beffroi[models]')."
        ) from error
    # A plain module whether or not the package ships its type information.
    hub: ModuleType = huggingface_hub
    return hub


@contextlib.contextmanager
def _plain_http(hub: ModuleType) -> Iterator[None]:
    """Xet off while downloading: the hub then serves every file over HTTP, through the
    client :mod:`beffroi.egress` checks (hf_xet's native transfers would bypass it)."""
    constants = hub.constants
    before = getattr(constants, "HF_HUB_DISABLE_XET", False)
    constants.HF_HUB_DISABLE_XET = True
    try:
        yield
    finally:
        constants.HF_HUB_DISABLE_XET = before


def _progress_class(file_name: str, progress: ProgressCallback | None) -> type:
    """What huggingface_hub takes as ``tqdm_class``: a bar that reports to ``progress``."""

    class Report:
        def __init__(self, *args: object, **kwargs: Any) -> None:
            self.total = kwargs.get("total")
            self.n = int(kwargs.get("initial") or 0)

        def __enter__(self) -> Report:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def update(self, count: int = 1) -> None:
            self.n += count
            if progress is not None:
                progress(file_name, self.n, self.total)

        def close(self) -> None:
            return None

    return Report


def _download_error(
    hub: ModuleType, error: Exception, entry: CatalogueEntry, file_name: str, endpoint: str
) -> ModelInstallError:
    try:
        errors = importlib.import_module("huggingface_hub.errors")
    except ImportError:  # before huggingface_hub 0.23, the errors lived in its utils
        errors = importlib.import_module("huggingface_hub.utils")
    what = f"Downloading {file_name} of {entry.name} from {endpoint}"
    if isinstance(error, getattr(errors, "GatedRepoError", ())):
        return DownloadFailed(
            f"{what}: {entry.repo} is gated (its licence must be accepted on the hub, and a "
            "token given in HF_TOKEN)."
        )
    if isinstance(error, errors.RepositoryNotFoundError):
        return DownloadFailed(f"{what}: the hub has no repository {entry.repo} (or it is private).")
    if isinstance(error, errors.RevisionNotFoundError):
        return DownloadFailed(f"{what}: {entry.repo} has no revision {entry.revision}.")
    remote_missing = getattr(errors, "RemoteEntryNotFoundError", errors.EntryNotFoundError)
    if isinstance(error, remote_missing) and not isinstance(error, errors.LocalEntryNotFoundError):
        return DownloadFailed(
            f"{what}: {entry.repo} has no file {file_name} at revision {entry.revision[:12]}."
        )
    if isinstance(error, errors.OfflineModeIsEnabled) or getattr(
        hub.constants, "HF_HUB_OFFLINE", False
    ):
        return DownloadFailed(f"{what}: HF_HUB_OFFLINE is set; unset it to install a model.")
    status = getattr(getattr(error, "response", None), "status_code", None)
    if isinstance(error, errors.HfHubHTTPError) and status is not None:
        return DownloadFailed(f"{what}: the hub answered HTTP {status}.")
    # Connection failures (a refused address included) come out of huggingface_hub as
    # "cannot find the file in the local cache": say what happened instead.
    return _unreachable(what)


def _unreachable(what: str) -> DownloadFailed:
    return DownloadFailed(
        f"{what}: the hub {egress.UNREACHABLE}. A mirror inside the organization's network "
        f"must be listed in {egress.ENV_VARIABLE}; {ENDPOINT_VARIABLE} sets the hub's address."
    )


def _refuse_early(endpoint: str, entry: CatalogueEntry) -> None:
    """An internal address the operator did not allow, refused before any download:
    huggingface_hub would retry the refused connection for half a minute before failing.
    (The connection itself is checked all the same, redirects included.)"""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DownloadFailed(f"{ENDPOINT_VARIABLE}: '{endpoint}' is not an http(s) address.")
    try:
        egress.check_address(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except egress.BlockedAddress as error:
        raise _unreachable(f"Downloading {entry.name} from {endpoint}") from error
    except (OSError, ValueError):
        return  # a name that does not resolve now: the download reports it


def _served_commit(files_dir: Path, file_name: str) -> str | None:
    """The commit huggingface_hub recorded for a file it downloaded into ``files_dir``."""
    try:
        from huggingface_hub._local_folder import read_download_metadata
    except ImportError:  # an older huggingface_hub: the request's pinned URL vouches alone
        return None
    metadata = read_download_metadata(files_dir, file_name)
    return metadata.commit_hash if metadata is not None else None


def _download(
    hub: ModuleType,
    entry: CatalogueEntry,
    files_dir: Path,
    cache_dir: Path,
    endpoint: str | None,
    progress: ProgressCallback | None,
) -> dict[str, str]:
    """Every file of ``entry`` into ``files_dir``, each checked as soon as it arrives."""
    shown_endpoint = endpoint or str(getattr(hub.constants, "ENDPOINT", "the hub"))
    hashes: dict[str, str] = {}
    for file in entry.files:
        if progress is not None:
            progress(file.name, 0, None)
        try:
            with _plain_http(hub):
                path = hub.hf_hub_download(
                    entry.repo,
                    file.name,
                    revision=entry.revision,
                    local_dir=files_dir,
                    cache_dir=cache_dir,
                    endpoint=endpoint,
                    library_name="beffroi",
                    tqdm_class=cast(Any, _progress_class(file.name, progress)),
                )
        except Exception as error:  # each layer (hub, httpx, OS) raises its own kind
            raise _download_error(hub, error, entry, file.name, shown_endpoint) from error
        actual = _sha256(Path(path))
        if file.sha256 is not None and actual != file.sha256:
            raise HashMismatch(
                f"{file.name} of {entry.name} has SHA-256 {actual} where the catalogue expects "
                f"{file.sha256}: the download was deleted and nothing was installed."
            )
        served = _served_commit(files_dir, file.name)
        if file.sha256 is None and served is not None and served != entry.revision:
            raise HashMismatch(
                f"{file.name} of {entry.name} came from commit {served}, not the pinned "
                f"{entry.revision}: the download was deleted and nothing was installed."
            )
        hashes[file.name] = actual
        if progress is not None:
            size = Path(path).stat().st_size
            progress(file.name, size, size)
    return hashes


def install(
    name: str,
    models_dir: Path,
    *,
    endpoint: str | None = None,
    progress: ProgressCallback | None = None,
) -> InstalledModel:
    """Download, verify and install the catalogue model ``name`` into ``models_dir/<name>/``.

    ``endpoint``: the hub's address (default ``BEFFROI_HF_ENDPOINT``, else huggingface_hub's
    own). Already installed at the catalogue's revision with intact files: nothing is
    downloaded (``downloaded`` is False). Raises a :class:`ModelInstallError`; on any failure
    the partial download is deleted and a model already installed is left as it was.
    """
    entry = find(name)
    target = models_dir / entry.name
    current = _read_manifest(target)
    if current is not None and _still_verified(current, entry):
        return current
    hub = _hub()
    endpoint = (endpoint or os.environ.get(ENDPOINT_VARIABLE, "")).strip().rstrip("/") or None
    _refuse_early(endpoint or str(getattr(hub.constants, "ENDPOINT", "")), entry)
    egress.guard_huggingface_hub()
    models_dir.mkdir(parents=True, exist_ok=True)
    # Beside the target, on the same file system: the final rename is atomic.
    staging = Path(tempfile.mkdtemp(prefix=f".incoming-{entry.name}-", dir=models_dir))
    try:
        files_dir = staging / entry.name
        hashes = _download(hub, entry, files_dir, staging / "hub-cache", endpoint, progress)
        shutil.rmtree(files_dir / ".cache", ignore_errors=True)  # huggingface_hub's metadata
        installed_at = datetime.now(UTC).isoformat(timespec="seconds")
        manifest = {
            "name": entry.name,
            "repo": entry.repo,
            "revision": entry.revision,
            "licence": entry.licence,
            "endpoint": endpoint or str(getattr(hub.constants, "ENDPOINT", "")),
            "map": {label: list(cats) for label, cats in entry.label_map.items()},
            "files": hashes,
            "installed_at": installed_at,
        }
        (files_dir / MANIFEST).write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        old = _set_aside(target) if target.exists() else None
        os.replace(files_dir, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    model = _read_manifest(target)
    assert model is not None  # written just above
    return replace(model, downloaded=True)


# --- using an installed model ----------------------------------------------------------------


def _model_labels(directory: Path) -> list[str]:
    """The labels in the model's ``config.json`` (``id2label``); none when unreadable."""
    try:
        data = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        id2label = data.get("id2label") or {}
        return [str(id2label[key]) for key in sorted(id2label, key=lambda k: int(k))]
    except (OSError, ValueError, AttributeError, TypeError):
        return []


def backend_spec(model: InstalledModel) -> str:
    """The ``hf:`` specification of an installed model, for ``BEFFROI_MODERATION_BACKENDS``.

    The catalogue's ``map`` keeps the labels the model's ``config.json`` has (an entry may
    name a label both ways, ``toxic`` and ``LABEL_1``, where the hub's files could not be
    read here); when it names none of them, ``category=`` sends the model's own harmful labels
    to the category the catalogue meant. ``local_files_only`` keeps loading off the network.
    """
    labels = _model_labels(model.directory)
    mapping: LabelMap = dict(model.label_map)
    if labels:
        own = {normalize_label(label): label for label in labels}
        mapping = {
            own[normalize_label(label)]: cats
            for label, cats in model.label_map.items()
            if normalize_label(label) in own
        }
    options: list[str] = []
    if mapping:
        pairs = [
            f"{quote(label, safe='')}:{'|'.join(cats) or '-'}" for label, cats in mapping.items()
        ]
        options.append("map=" + ",".join(pairs))
    else:
        meant = next((cats[0] for cats in model.label_map.values() if cats), None)
        if meant is not None:
            options.append(f"category={meant}")
    options.append("local_files_only=true")
    spec = f"hf:{model.directory}?{'&'.join(options)}"
    parsed = BackendSpec.parse(spec)  # as the backends read it: a spec they would refuse fails here
    if "map" in parsed.options:
        parse_label_map(parsed.options["map"])
    return spec


def smoke_check(detector: Detector, *, threshold: float = 0.5) -> BinaryMetrics:
    """Precision, recall and F1 of ``detector`` on :data:`SMOKE_CHECK`: a quick sign that an
    installed model loads and tells hateful or threatening messages from ordinary ones, in
    every category (a toxicity model reports insults), never a measure of its quality."""
    rows = read_labelled_rows(SMOKE_CHECK, "text", "label", PositiveLabels.parse("harmful"))
    scores = combined_scores([row.text for row in rows], None, detector)
    return binary_metrics([row.positive for row in rows], scores, threshold)
