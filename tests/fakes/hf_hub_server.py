"""The Hugging Face hub's file endpoint on 127.0.0.1, answering as huggingface_hub expects.

``HEAD`` and ``GET /{repo_id}/resolve/{revision}/{filename}``, as ``hf_hub_download`` asks
(``huggingface_hub/file_download.py``: ``get_hf_file_metadata`` then ``http_get``):

- 200 with ``ETag`` (quoted; the SHA-256 of the content, as the hub gives for LFS files),
  ``X-Repo-Commit`` (the commit served, which ``hf_hub_download`` requires),
  ``Content-Length`` (the expected size, checked after the transfer) and
  ``Accept-Ranges: bytes``; a ``GET`` with ``Range: bytes=N-`` (a resumed download) gets 206
  with ``Content-Range``;
- 404 with ``X-Error-Code: RepoNotFound`` (→ ``RepositoryNotFoundError``),
  ``RevisionNotFound`` (→ ``RevisionNotFoundError``) or ``EntryNotFound`` with the commit
  (→ ``RemoteEntryNotFoundError``), as ``hf_raise_for_status`` reads them.

A repository is published at one commit (40 hex digits); the branch name ``main`` resolves to
it too. :meth:`corrupt` serves other bytes for a file (with headers that match them, as a
tampered mirror would); :attr:`answer_commit` names another commit in every answer.
:attr:`requests` records every request (the scaffold's), so a test can
count what a second install asked.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply, _Handler, _Server


@dataclass
class FakeRepo:
    commit: str
    files: dict[str, bytes] = field(default_factory=dict)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _HubHandler(_Handler):
    """The scaffold's handler, with ``HEAD`` (no body, the headers of the ``GET``)."""

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def send_reply(self, reply: Reply, *, truncate: bool = False) -> None:
        if reply.raw is not None:
            data = reply.raw
        else:
            data = json.dumps(reply.payload).encode() if reply.payload is not None else b""
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        # HEAD gives the length the GET would have, without the body.
        self.send_header("Content-Length", reply.headers.pop("Content-Length", str(len(data))))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class FakeHubServer(LoopbackServer):
    """Model repositories served by the hub's ``resolve`` route."""

    def __init__(self) -> None:
        super().__init__()
        self.repos: dict[str, FakeRepo] = {}
        self.corrupted: dict[tuple[str, str], bytes] = {}
        #: When set, every answer names this commit (a mirror serving something else).
        self.answer_commit: str | None = None

    def start(self) -> FakeHubServer:
        server = _Server(("127.0.0.1", 0), _HubHandler)
        server.fake = self
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        ).start()
        return self

    def __enter__(self) -> FakeHubServer:
        return self.start()

    # --- what is published -----------------------------------------------------------------

    def publish(self, repo_id: str, commit: str, directory: Path) -> dict[str, str]:
        """Publish every file of ``directory`` as ``repo_id`` at ``commit``; their SHA-256."""
        files = {
            path.relative_to(directory).as_posix(): path.read_bytes()
            for path in sorted(directory.rglob("*"))
            if path.is_file()
        }
        with self.lock:
            self.repos[repo_id] = FakeRepo(commit, files)
        return {name: sha256(data) for name, data in files.items()}

    def corrupt(self, repo_id: str, filename: str, data: bytes = b"not the model") -> None:
        """Serve ``data`` instead of the published file (with matching headers)."""
        with self.lock:
            self.corrupted[(repo_id, filename)] = data

    def heal(self) -> None:
        super().heal()
        with self.lock:
            self.corrupted.clear()
            self.answer_commit = None

    def downloads(self) -> list[RecordedRequest]:
        """The GET requests of files (what a transfer costs)."""
        with self.lock:
            return [r for r in self.requests if r.method == "GET" and "/resolve/" in r.path]

    # --- answering -------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        if request.method not in ("HEAD", "GET"):
            return _error(405, "Method not allowed")
        parts = request.path.lstrip("/").split("/")
        if len(parts) < 5 or parts[2] != "resolve":
            return _error(404, "Not found", "RepoNotFound")
        repo_id, revision = f"{parts[0]}/{parts[1]}", unquote(parts[3])
        filename = unquote("/".join(parts[4:]))
        with self.lock:
            repo = self.repos.get(repo_id)
            if repo is None:
                return _error(404, "Repository not found", "RepoNotFound")
            if revision not in (repo.commit, "main"):
                return _error(404, "Invalid rev id", "RevisionNotFound")
            if filename not in repo.files:
                return _error(
                    404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": repo.commit}
                )
            data = self.corrupted.get((repo_id, filename), repo.files[filename])
            commit = self.answer_commit or repo.commit
        headers = {
            "ETag": f'"{sha256(data)}"',
            "X-Repo-Commit": commit,
            "Accept-Ranges": "bytes",
            "Content-Length": str(len(data)),
        }
        status, body = 200, data
        start = _range_start(request.header("Range"))
        if request.method == "GET" and start is not None and 0 < start < len(data):
            status, body = 206, data[start:]
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            headers["Content-Length"] = str(len(body))
        return Reply(status, raw=body, headers=headers, content_type="application/octet-stream")


def _range_start(value: str | None) -> int | None:
    if not value or not value.startswith("bytes="):
        return None
    first = value[len("bytes=") :].split("-", 1)[0]
    return int(first) if first.isdigit() else None


def _error(status: int, message: str, code: str | None = None, extra: Any = None) -> Reply:
    headers = {"X-Error-Message": message, **(extra or {})}
    if code is not None:
        headers["X-Error-Code"] = code
    body = f'{{"error": "{message}"}}'.encode()
    return Reply(status, raw=body, headers=headers, content_type="application/json")
