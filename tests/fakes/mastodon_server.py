"""A Mastodon server on 127.0.0.1 that answers as the API reference documents.

Endpoints: ``GET /api/v1/accounts/verify_credentials``, ``GET /api/v1/accounts/:id/statuses``,
``GET /api/v1/statuses/:id``, ``GET /api/v1/statuses/:id/context``,
``GET /api/v1/notifications``, ``GET /api/v1/conversations``,
``GET /api/v1/timelines/tag/:hashtag`` (public statuses whose ``tags`` hold the hashtag,
case-insensitively; ``local``, ``remote``, ``only_media``, ``any[]``, ``all[]``, ``none[]``),
``GET /api/v2/instance`` (what Mastodon.py reads before a timeline), ``POST /api/v1/statuses``
(with ``media_ids[]``), ``POST /api/v2/media`` and ``GET /api/v1/media/:id`` (an image is
processed at once, 200 with its ``url``; a video or a GIF answers 202 with ``url: null``, then
206 until :attr:`FakeMastodon.processing_polls` reads have passed, then 200),
``DELETE /api/v1/statuses/:id`` and ``POST /api/v1/reports``. Lists paginate like Mastodon:
newest first, ``max_id``/``since_id``/``min_id``/``limit`` (capped at ``max_limit``), a
``Link`` header with ``rel="next"`` (``max_id``, only when the page is full) and ``rel="prev"``
(``min_id``, when the page is not empty). Ids are snowflakes (milliseconds << 16 | sequence)
for accounts and statuses, serial numbers for notifications, conversations and reports.
Every answer carries ``X-RateLimit-Limit/Remaining/Reset``. A status's ``tags`` are the
``#words`` of its text (plus the ``tags`` given to :meth:`add_status`), lowercased.

Built on :class:`~tests.fakes.loopback.LoopbackServer`, whose switches it keeps
(``malformed``: invalid JSON for a path, ``truncate``: a body cut short of its
Content-Length, ``fail_after``: every request after the next K fails, a crash mid-sync,
``heal``: clear them all; :attr:`requests` records what was asked). Mastodon's own:
:meth:`revoke_token` (401), :meth:`rate_limit` (429 for the next N requests, or the next N to
a path prefix), :meth:`not_found` (404 for one status) and :meth:`server_error` (5xx for a
path).
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlencode

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply

#: How long Mastodon remembers an ``Idempotency-Key`` (its Redis entry lasts an hour).
IDEMPOTENCY_WINDOW = timedelta(hours=1)

DEFAULT_TOKEN = "fake-token-5f1d0c7e9a"
UNAUTHORIZED = {"error": "The access token is invalid"}
NOT_FOUND = {"error": "Record not found"}
TOO_MANY = {"error": "Too many requests"}
VISIBILITIES = ("public", "unlisted", "private", "direct")

#: What Mastodon takes by default (MediaAttachment's limits) and the description's length.
MAX_IMAGE_BYTES = 16 * 1024 * 1024
MAX_VIDEO_BYTES = 99 * 1024 * 1024
MAX_DESCRIPTION = 1500
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\x1aE\xdf\xa3", "video/webm"),
)

_URL = re.compile(r"^https?://\S+$")
_MENTION = re.compile(r"^@([\w.]+(?:@[\w.-]+)?)$")
_HASHTAG = re.compile(r"^#(\w+)$")


def iso(moment: datetime) -> str:
    """Mastodon's datetime format: ``2019-11-25T04:08:24.000Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _Switches:
    """Mastodon's own failure switches (the scaffold's are in ``failures``)."""

    revoked: bool = False
    rate_limited: int = 0
    rate_reset_in: float = 60.0
    rate_limited_path: str | None = None
    not_found: set[str] = field(default_factory=set)
    server_errors: dict[str, int] = field(default_factory=dict)


class FakeMastodon(LoopbackServer):
    """The state of one instance seen by one logged-in account, served over HTTP."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        domain: str = "mastodon.example",
        username: str = "mairie",
        display_name: str = "Mairie de Test",
        default_limit: int = 2,
        max_limit: int = 3,
    ) -> None:
        super().__init__()
        self.token = token
        self.domain = domain
        self.default_limit = default_limit
        self.max_limit = max_limit
        self.switches = _Switches()
        self.reports: list[dict[str, Any]] = []
        self.accounts: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.conversations: dict[str, dict[str, Any]] = {}
        self._serial = itertools.count(1000)
        self._sequence = itertools.count(1)
        #: Idempotency-Key → (status id, when it was posted): Mastodon answers a POST with
        #: a key it saw in the last hour with the status it created then.
        self._idempotency: dict[str, tuple[str, datetime]] = {}
        self._remaining = 300
        self._window_reset = datetime.now(UTC) + timedelta(minutes=5)
        self.me = self.add_account(username, display_name=display_name)
        #: Uploaded media attachments by id: the entity, the bytes, the status that took it.
        self.uploads: dict[str, dict[str, Any]] = {}
        #: Reads of ``GET /api/v1/media/:id`` answered 206 before a video is processed.
        self.processing_polls = 1

    # --- failure switches ------------------------------------------------------------------

    def revoke_token(self) -> None:
        """Every request now answers 401 ``{"error": "The access token is invalid"}``."""
        with self.lock:
            self.switches.revoked = True

    def rate_limit(
        self, requests: int = 1, *, reset_in: float = 60.0, path_prefix: str | None = None
    ) -> None:
        """The next ``requests`` requests (to ``path_prefix`` when given) answer 429; the
        window resets ``reset_in`` s after each."""
        with self.lock:
            self.switches.rate_limited = requests
            self.switches.rate_reset_in = reset_in
            self.switches.rate_limited_path = path_prefix

    def not_found(self, status_id: str) -> None:
        """Requests naming ``status_id`` in their path answer 404 (it was deleted)."""
        with self.lock:
            self.switches.not_found.add(str(status_id))

    def malformed(self, path_prefix: str, body: bytes = b'[{"id": "1", "content": ') -> None:
        """Requests whose path starts with ``path_prefix`` get 200 with ``body`` (not JSON)."""
        super().malformed(path_prefix, body)

    def server_error(self, path_prefix: str, status: int = 500) -> None:
        """Requests to ``path_prefix`` answer ``status`` (5xx)."""
        with self.lock:
            self.switches.server_errors[path_prefix] = status

    def heal(self) -> None:
        """Clear every failure switch."""
        with self.lock:
            super().heal()
            self.switches = _Switches()

    # --- state -----------------------------------------------------------------------------

    def _snowflake(self, moment: datetime) -> str:
        return str((int(moment.timestamp() * 1000) << 16) | (next(self._sequence) & 0xFFFF))

    def add_account(
        self, username: str, *, domain: str | None = None, display_name: str = "", bot: bool = False
    ) -> dict[str, Any]:
        """A (local, or remote when ``domain`` is given) account; returns its entity."""
        with self.lock:
            now = datetime.now(UTC)
            host = domain or self.domain
            account_id = self._snowflake(now - timedelta(days=400))
            self.accounts[account_id] = {
                "id": account_id,
                "username": username,
                "acct": f"{username}@{domain}" if domain else username,
                "display_name": display_name or username.title(),
                "locked": False,
                "bot": bot,
                "discoverable": True,
                "indexable": True,
                "group": False,
                "created_at": iso(
                    (now - timedelta(days=400)).replace(hour=0, minute=0, second=0, microsecond=0)
                ),
                "note": f"<p>{html.escape(display_name or username)}</p>",
                "url": f"https://{host}/@{username}",
                "uri": f"https://{host}/users/{username}",
                "avatar": f"https://files.{self.domain}/avatars/{account_id}.png",
                "avatar_static": f"https://files.{self.domain}/avatars/{account_id}.png",
                "header": f"https://files.{self.domain}/headers/missing.png",
                "header_static": f"https://files.{self.domain}/headers/missing.png",
                "followers_count": 0,
                "following_count": 0,
                "statuses_count": 0,
                "last_status_at": None,
                "hide_collections": False,
                "noindex": False,
                "emojis": [],
                "roles": [],
                "fields": [],
            }
            return self.account(account_id)

    def account(self, account_id: str) -> dict[str, Any]:
        """The Account entity."""
        with self.lock:
            data = dict(self.accounts[str(account_id)])
            own = [s for s in self.statuses.values() if s["account_id"] == data["id"]]
            data["statuses_count"] = len([s for s in own if not s["deleted"]])
            if own:
                data["last_status_at"] = max(s["created_at"] for s in own).date().isoformat()
            return data

    def _by_acct(self, acct: str) -> dict[str, Any] | None:
        for account in self.accounts.values():
            local = f"{account['username']}@{self.domain}"
            if acct.lower() in (account["acct"].lower(), local.lower()):
                return account
        return None

    def add_status(
        self,
        text: str = "",
        *,
        account: dict[str, Any] | None = None,
        in_reply_to: str | dict[str, Any] | None = None,
        visibility: str = "public",
        days_ago: float = 0,
        content_html: str | None = None,
        media: Iterable[dict[str, Any]] = (),
        mentions: Iterable[dict[str, Any]] = (),
        language: str | None = "fr",
        spoiler_text: str = "",
        reblogs: int = 0,
        favourites: int = 0,
        tags: Iterable[str] = (),
    ) -> dict[str, Any]:
        """Store a status as if it had been posted (``account`` defaults to the logged-in one).

        Like Mastodon's apps, a reply or a direct message from someone else mentions the
        logged-in account; mentioning it creates a ``mention`` notification, and a direct
        status joins (or starts) a conversation. ``tags`` adds hashtags to those of the text
        (for a status given as ``content_html``).
        """
        with self.lock:
            author = self.accounts[str((account or self.me)["id"])]
            parent = self.statuses[self._sid(in_reply_to)] if in_reply_to is not None else None
            created_at = datetime.now(UTC) - timedelta(days=days_ago)
            mentioned = [self.accounts[str(a["id"])] for a in mentions]
            for token in text.split():
                found = _MENTION.match(token) and self._by_acct(token[1:])
                if found and found not in mentioned:
                    mentioned.append(found)
            me = self.accounts[self.me["id"]]
            addressed_to_me = parent is not None and parent["account_id"] == me["id"]
            if (
                author is not me
                and me not in mentioned
                and (addressed_to_me or visibility == "direct")
            ):
                mentioned.insert(0, me)
                text = f"@{me['username']} {text}" if content_html is None else text
            status_id = self._snowflake(created_at)
            record: dict[str, Any] = {
                "id": status_id,
                "account_id": author["id"],
                "created_at": created_at,
                "text": text,
                "content": content_html
                if content_html is not None
                else self.render(text, mentioned),
                "visibility": visibility,
                "in_reply_to_id": parent["id"] if parent else None,
                "in_reply_to_account_id": parent["account_id"] if parent else None,
                "mentions": [a["id"] for a in mentioned],
                "media": [self._media(m) for m in media],
                "language": language,
                "spoiler_text": spoiler_text,
                "tags": sorted({*_tags_of(text), *(t.lstrip("#").lower() for t in tags)}),
                "reblogs_count": reblogs,
                "favourites_count": favourites,
                "deleted": False,
            }
            self.statuses[status_id] = record
            if author is not me and me in mentioned:
                self.notifications.append(
                    {
                        "id": str(next(self._serial)),
                        "type": "mention",
                        "created_at": created_at,
                        "account_id": author["id"],
                        "status_id": status_id,
                    }
                )
            if visibility == "direct" and (author is me or me in mentioned):
                self._join_conversation(record, parent)
            return self.status(status_id)

    def add_dm(
        self, account: dict[str, Any], text: str, *, in_reply_to: str | dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A direct message from ``account`` to the logged-in account."""
        return self.add_status(text, account=account, in_reply_to=in_reply_to, visibility="direct")

    def _join_conversation(self, record: dict[str, Any], parent: dict[str, Any] | None) -> None:
        for conversation in self.conversations.values():
            if parent is not None and parent["id"] in conversation["status_ids"]:
                break
        else:
            conversation = {"id": str(next(self._serial)), "status_ids": [], "unread": False}
            self.conversations[conversation["id"]] = conversation
        conversation["status_ids"].append(record["id"])
        conversation["unread"] = record["account_id"] != self.me["id"]

    def _media(self, spec: dict[str, Any]) -> dict[str, Any]:
        media_id = str(next(self._serial))
        kind = spec.get("type", "image")
        ext = {"image": "png", "video": "mp4", "gifv": "mp4", "audio": "mp3"}.get(kind, "bin")
        url = f"https://files.{self.domain}/media_attachments/{media_id}/original.{ext}"
        return {
            "id": media_id,
            "type": kind,
            "url": url,
            "preview_url": url.replace("original", "small"),
            "remote_url": None,
            "preview_remote_url": None,
            "text_url": None,
            "meta": spec.get("meta", {}),
            "description": spec.get("description"),
            "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}",
        }

    def _sid(self, value: str | dict[str, Any]) -> str:
        return str(value["id"] if isinstance(value, dict) else value)

    def delete_status(self, status_id: str | dict[str, Any]) -> None:
        """Delete a status (as its author would); its mention notifications go with it."""
        with self.lock:
            self.statuses[self._sid(status_id)]["deleted"] = True

    # --- rendering -------------------------------------------------------------------------

    def render(self, text: str, mentioned: list[dict[str, Any]]) -> str:
        """Text as Mastodon's HTML: paragraphs, <br />, links, mentions and hashtags."""
        paragraphs = []
        for paragraph in text.split("\n\n"):
            lines = [self._render_line(line, mentioned) for line in paragraph.split("\n")]
            paragraphs.append(f"<p>{'<br />'.join(lines)}</p>")
        return "".join(paragraphs)

    def _render_line(self, line: str, mentioned: list[dict[str, Any]]) -> str:
        out = []
        for token in re.split(r"(\s+)", line):
            mention = _MENTION.match(token)
            account = self._by_acct(mention.group(1)) if mention else None
            if _URL.match(token):
                scheme, _, rest = token.partition("://")
                shown, hidden = rest[:30], rest[30:]
                out.append(
                    f'<a href="{html.escape(token)}" target="_blank" rel="nofollow noopener" '
                    f'translate="no"><span class="invisible">{scheme}://</span>'
                    f'<span class="{"ellipsis" if hidden else ""}">{html.escape(shown)}</span>'
                    f'<span class="invisible">{html.escape(hidden)}</span></a>'
                )
            elif account is not None and account in mentioned:
                out.append(
                    f'<span class="h-card" translate="no"><a href="{account["url"]}" '
                    f'class="u-url mention">@<span>{html.escape(account["username"])}</span>'
                    "</a></span>"
                )
            elif tag := _HASHTAG.match(token):
                out.append(
                    f'<a href="https://{self.domain}/tags/{tag.group(1).lower()}" '
                    f'class="mention hashtag" rel="tag">#<span>{tag.group(1)}</span></a>'
                )
            else:
                out.append(html.escape(token, quote=False))
        return "".join(out)

    # --- entities --------------------------------------------------------------------------

    def _visible(self, record: dict[str, Any]) -> bool:
        if record["deleted"]:
            return False
        if record["visibility"] != "direct":
            return True
        me = self.me["id"]
        return record["account_id"] == me or me in record["mentions"]

    def status(self, status_id: str) -> dict[str, Any]:
        """The Status entity, as the logged-in account sees it."""
        with self.lock:
            record = self.statuses[str(status_id)]
            author = self.account(record["account_id"])
            replies = [
                s
                for s in self.statuses.values()
                if s["in_reply_to_id"] == record["id"]
                and not s["deleted"]
                and s["visibility"] != "direct"
            ]
            tags = record["tags"]
            own = record["account_id"] == self.me["id"]
            host = author["url"].split("/@")[0]
            entity: dict[str, Any] = {
                "id": record["id"],
                "created_at": iso(record["created_at"]),
                "in_reply_to_id": record["in_reply_to_id"],
                "in_reply_to_account_id": record["in_reply_to_account_id"],
                "sensitive": bool(record["spoiler_text"]),
                "spoiler_text": record["spoiler_text"],
                "visibility": record["visibility"],
                "language": record["language"],
                "uri": f"{author['uri']}/statuses/{record['id']}",
                "url": f"{host}/@{author['username']}/{record['id']}",
                "replies_count": len(replies),
                "reblogs_count": record["reblogs_count"],
                "favourites_count": record["favourites_count"],
                "quotes_count": 0,
                "edited_at": None,
                "favourited": False,
                "reblogged": False,
                "muted": False,
                "bookmarked": False,
                "content": record["content"],
                "filtered": [],
                "reblog": None,
                "application": {"name": "Web", "website": None} if own else None,
                "account": author,
                "media_attachments": record["media"],
                "mentions": [
                    {
                        "id": a["id"],
                        "username": a["username"],
                        "url": a["url"],
                        "acct": a["acct"],
                    }
                    for a in (self.accounts[i] for i in record["mentions"])
                ],
                "tags": [{"name": t, "url": f"https://{self.domain}/tags/{t}"} for t in tags],
                "emojis": [],
                "card": None,
                "poll": None,
            }
            if own:
                entity["pinned"] = False
            return entity

    def _notification(self, notification: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": notification["id"],
            "type": notification["type"],
            "group_key": f"ungrouped-{notification['id']}",
            "created_at": iso(notification["created_at"]),
            "account": self.account(notification["account_id"]),
            "status": self.status(notification["status_id"]),
        }

    def _conversation(self, conversation: dict[str, Any], last_id: str) -> dict[str, Any]:
        participants: list[str] = []
        for status_id in conversation["status_ids"]:
            record = self.statuses[status_id]
            for account_id in [record["account_id"], *record["mentions"]]:
                if account_id != self.me["id"] and account_id not in participants:
                    participants.append(account_id)
        return {
            "id": conversation["id"],
            "unread": conversation["unread"],
            "accounts": [self.account(a) for a in participants],
            "last_status": self.status(last_id),
        }

    # --- HTTP ------------------------------------------------------------------------------

    def _limit(self, query: dict[str, list[str]]) -> int:
        if "limit" not in query:
            return self.default_limit
        try:
            return max(1, min(abs(int(query["limit"][0])), self.max_limit))
        except ValueError:
            return self.default_limit

    def paginate(
        self,
        path: str,
        query: dict[str, list[str]],
        entries: list[tuple[int, Any]],
        keep: Iterable[str] = (),
    ) -> tuple[list[Any], str | None]:
        """One page of ``(key, entry)`` pairs, newest first, and its ``Link`` header."""
        limit = self._limit(query)

        def number(name: str) -> int | None:
            value = query.get(name, [""])[0]
            return int(value) if value.isdigit() else None

        max_id, since_id, min_id = number("max_id"), number("since_id"), number("min_id")
        chosen = [
            (key, entry)
            for key, entry in entries
            if (max_id is None or key < max_id) and (since_id is None or key > since_id)
        ]
        if min_id is not None:
            chosen = sorted((e for e in chosen if e[0] > min_id), key=lambda e: e[0])[:limit]
            chosen.reverse()
        else:
            chosen = sorted(chosen, key=lambda e: e[0], reverse=True)[:limit]
        kept = {name: query[name] for name in keep if name in query}
        if "limit" in query:
            kept["limit"] = query["limit"]
        links = []
        if chosen and len(chosen) == limit:
            params = urlencode({**kept, "max_id": str(chosen[-1][0])}, doseq=True)
            links.append(f'<{self.base_url}{path}?{params}>; rel="next"')
        if chosen:
            params = urlencode({**kept, "min_id": str(chosen[0][0])}, doseq=True)
            links.append(f'<{self.base_url}{path}?{params}>; rel="prev"')
        return [entry for _, entry in chosen], ", ".join(links) or None

    def ratelimit_headers(self, remaining: int | None = None) -> dict[str, str]:
        now = datetime.now(UTC)
        if now >= self._window_reset:
            self._window_reset = now + timedelta(minutes=5)
            self._remaining = 300
        if remaining is None:
            self._remaining = max(0, self._remaining - 1)
            remaining = self._remaining
        return {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": self._window_reset.isoformat(timespec="microseconds").replace(
                "+00:00", "Z"
            ),
        }

    # --- one request -----------------------------------------------------------------------

    def check_auth(self, request: RecordedRequest) -> Reply | None:
        """A spent window (429), a refused token (401) or a failing path (5xx); else None."""
        switches = self.switches
        limited_path = switches.rate_limited_path
        if switches.rate_limited > 0 and (
            limited_path is None or request.path.startswith(limited_path)
        ):
            switches.rate_limited -= 1
            reset = datetime.now(UTC) + timedelta(seconds=switches.rate_reset_in)
            headers = {
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.isoformat(timespec="microseconds").replace(
                    "+00:00", "Z"
                ),
            }
            return Reply(429, TOO_MANY, headers)
        if switches.revoked or request.authorization != f"Bearer {self.token}":
            return Reply(401, UNAUTHORIZED, self.ratelimit_headers())
        for prefix, status in switches.server_errors.items():
            if request.path.startswith(prefix):
                return Reply(status, {"error": "Internal Server Error"}, self.ratelimit_headers())
        return None

    def handle(self, request: RecordedRequest) -> Reply:
        """Answer one authorised request, with the rate-limit headers and a ``Link``."""
        headers = self.ratelimit_headers()
        if self.switches.not_found & set(request.path.split("/")):
            return Reply(404, NOT_FOUND, headers)
        body = request.body
        key = request.header("Idempotency-Key")
        if request.method == "POST" and isinstance(body, dict) and key:
            body = {**body, "_idempotency": [key]}
        status, payload = self._route(request.method, request.path, request.query, body)
        if isinstance(payload, tuple):
            payload, link = payload
            if link:
                headers["Link"] = link
        return Reply(status, payload, headers)

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        """Answer one authorised request: ``(status, JSON payload)`` or, for a list,
        ``(status, (entries, Link header))``."""
        path = path.rstrip("/") or "/"
        me = self.me["id"]
        match = re.fullmatch(r"/api/v1/accounts/(\w+)/statuses", path)
        if method == "GET" and path == "/api/v1/accounts/verify_credentials":
            account = self.account(me)
            account["source"] = {
                "privacy": "public",
                "sensitive": False,
                "language": "fr",
                "note": account["display_name"],
                "fields": [],
                "follow_requests_count": 0,
            }
            account["role"] = {"id": "-99", "name": "", "permissions": "0", "color": ""}
            return 200, account
        if method == "GET" and match:
            account_id = match.group(1)
            if account_id not in self.accounts:
                return 404, NOT_FOUND
            chosen = [
                s
                for s in self.statuses.values()
                if s["account_id"] == account_id and self._visible(s)
            ]
            if _truthy(query, "exclude_replies"):
                chosen = [s for s in chosen if s["in_reply_to_id"] is None]
            if _truthy(query, "only_media"):
                chosen = [s for s in chosen if s["media"]]
            if _truthy(query, "pinned"):
                chosen = []
            entries = [(int(s["id"]), s["id"]) for s in chosen]
            keep = ("exclude_replies", "exclude_reblogs", "only_media", "tagged")
            page, link = self.paginate(path, query, entries, keep)
            return 200, ([self.status(i) for i in page], link)
        match = re.fullmatch(r"/api/v1/statuses/(\w+)(/context)?", path)
        if match:
            status_id, context = match.group(1), match.group(2)
            record = self.statuses.get(status_id)
            if record is None or not self._visible(record):
                return 404, NOT_FOUND
            if method == "GET" and context:
                return 200, self._context(record)
            if method == "GET":
                return 200, self.status(status_id)
            if method == "DELETE" and not context:
                if record["account_id"] != me:
                    return 404, NOT_FOUND
                entity = self.status(status_id)
                entity["text"] = record["text"]
                record["deleted"] = True
                return 200, entity
        if method == "POST" and path == "/api/v1/statuses":
            return self._post_status(body)
        if method == "POST" and path == "/api/v2/media":
            return self._upload(body)
        match = re.fullmatch(r"/api/v1/media/(\w+)", path)
        if method == "GET" and match:
            return self._media_state(match.group(1))
        if method == "GET" and path == "/api/v1/notifications":
            types = query.get("types[]") or query.get("types") or []
            excluded = query.get("exclude_types[]") or query.get("exclude_types") or []
            entries = [
                (int(n["id"]), n)
                for n in self.notifications
                if (not types or n["type"] in types)
                and n["type"] not in excluded
                and self._visible(self.statuses[n["status_id"]])
            ]
            page, link = self.paginate(path, query, entries, ("types[]", "exclude_types[]"))
            return 200, ([self._notification(n) for n in page], link)
        if method == "GET" and path == "/api/v1/conversations":
            entries = []
            for conversation in self.conversations.values():
                visible = [i for i in conversation["status_ids"] if self._visible(self.statuses[i])]
                if visible:
                    last = max(visible, key=int)
                    entries.append((int(last), (conversation, last)))
            page, link = self.paginate(path, query, entries)
            return 200, ([self._conversation(c, last) for c, last in page], link)
        if method == "POST" and path == "/api/v1/reports":
            return self._report(body)
        match = re.fullmatch(r"/api/v1/timelines/tag/([^/]+)", path)
        if method == "GET" and match:
            return self._tag_timeline(path, unquote(match.group(1)), query)
        if method == "GET" and path == "/api/v2/instance":
            return 200, self._instance()
        if method == "GET" and path == "/api/v1/instance":
            # The V1 entity (deprecated, still served): Mastodon.py reads its ``version``.
            return 200, {**self._instance(), "uri": self.domain, "api_versions": None}
        if method == "GET" and path == "/api/v2/search":
            return self._search(query)
        return 404, NOT_FOUND

    def _search(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        """``GET /api/v2/search``: with a full-text index, the public statuses whose text holds
        every word of ``q`` (case-insensitively), newest first; ``type``, ``limit`` (default
        20, at most 40), ``max_id``/``min_id`` and ``offset`` as documented. Without a page
        ``Link`` header: Mastodon paginates search with ``max_id`` or ``offset``."""
        q = query.get("q", [""])[0]
        if not q.strip():
            return 400, {"error": "Validation failed: q is missing"}
        kind = query.get("type", [None])[0]
        words = q.casefold().split()
        chosen = [
            s
            for s in self.statuses.values()
            if not s["deleted"]
            and s["visibility"] == "public"
            and all(w in s["text"].casefold() for w in words)
        ]
        if "limit" in query:
            limit = max(1, min(int(query["limit"][0]), 40))
        else:
            limit = 20

        def number(name: str) -> int | None:
            value = query.get(name, [""])[0]
            return int(value) if value.isdigit() else None

        max_id, min_id, offset = number("max_id"), number("min_id"), number("offset") or 0
        chosen = [
            s
            for s in chosen
            if (max_id is None or int(s["id"]) < max_id)
            and (min_id is None or int(s["id"]) > min_id)
        ]
        chosen.sort(key=lambda s: int(s["id"]), reverse=True)
        page = chosen[offset : offset + limit] if kind in (None, "statuses") else []
        return 200, {
            "accounts": [],
            "statuses": [self.status(s["id"]) for s in page],
            "hashtags": [],
        }

    def _tag_timeline(self, path: str, tag: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        """Public statuses tagged ``tag`` (and ``any[]``, ``all[]``, not ``none[]``)."""

        def names(key: str) -> set[str]:
            return {v.lstrip("#").casefold() for v in query.get(key, []) if v}

        wanted = {tag.lstrip("#").casefold(), *names("any[]")}
        required, excluded = names("all[]"), names("none[]")
        chosen = []
        for record in self.statuses.values():
            tags = {t.casefold() for t in record["tags"]}
            if record["deleted"] or record["visibility"] != "public":
                continue
            if not tags & wanted or not required <= tags or tags & excluded:
                continue
            remote = "@" in self.accounts[record["account_id"]]["acct"]
            if (_truthy(query, "local") and remote) or (_truthy(query, "remote") and not remote):
                continue
            if _truthy(query, "only_media") and not record["media"]:
                continue
            chosen.append(record)
        entries = [(int(s["id"]), s["id"]) for s in chosen]
        keep = ("local", "remote", "only_media", "any[]", "all[]", "none[]")
        page, link = self.paginate(path, query, entries, keep)
        return 200, ([self.status(i) for i in page], link)

    def _instance(self) -> dict[str, Any]:
        """A minimal InstanceV2 entity: every timeline open to authenticated users."""
        feeds = {"local": "public", "remote": "public"}
        return {
            "domain": self.domain,
            "title": self.domain,
            "version": "4.5.0",
            "api_versions": {"mastodon": 6},
            "source_url": "https://github.com/mastodon/mastodon",
            "description": "",
            "usage": {"users": {"active_month": len(self.accounts)}},
            "thumbnail": {"url": f"https://files.{self.domain}/site_uploads/thumbnail.png"},
            "languages": ["fr"],
            "configuration": {
                "urls": {"streaming": f"wss://{self.domain}"},
                "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                "statuses": {
                    "max_characters": 500,
                    "max_media_attachments": 4,
                    "characters_reserved_per_url": 23,
                },
                "timelines_access": {
                    "live_feeds": dict(feeds),
                    "hashtag_feeds": dict(feeds),
                    "trending_link_feeds": dict(feeds),
                },
            },
            "registrations": {"enabled": False, "approval_required": False, "message": None},
            "contact": {"email": f"admin@{self.domain}", "account": None},
            "rules": [],
        }

    def _context(self, record: dict[str, Any]) -> dict[str, Any]:
        ancestors: list[dict[str, Any]] = []
        parent_id = record["in_reply_to_id"]
        while parent_id is not None and parent_id in self.statuses:
            parent = self.statuses[parent_id]
            if self._visible(parent):
                ancestors.insert(0, self.status(parent_id))
            parent_id = parent["in_reply_to_id"]

        def children(status_id: str) -> Iterator[str]:
            for child in sorted(self.statuses.values(), key=lambda s: int(s["id"])):
                if child["in_reply_to_id"] == status_id and self._visible(child):
                    yield child["id"]
                    yield from children(child["id"])

        return {
            "ancestors": ancestors,
            "descendants": [self.status(i) for i in children(record["id"])],
        }

    def _upload(self, body: Any) -> tuple[int, Any]:
        """``POST /api/v2/media``: multipart ``file`` and ``description``, as Mastodon checks
        them (type, size, description length)."""
        parts = body if isinstance(body, dict) else {}
        content = parts.get("file")
        if not isinstance(content, bytes):
            return 422, {"error": "Validation failed: File can't be blank"}
        mime = _sniff(content)
        if mime is None:
            return 422, {"error": "Validation failed: File content type is invalid"}
        kind = "video" if mime.startswith("video/") else "gifv" if mime == "image/gif" else "image"
        limit = MAX_IMAGE_BYTES if kind == "image" else MAX_VIDEO_BYTES
        if len(content) > limit:
            return 422, {
                "error": f"Validation failed: File file size must be less than {limit} Bytes"
            }
        description = parts.get("description")
        if isinstance(description, str) and len(description) > MAX_DESCRIPTION:
            return 422, {
                "error": "Validation failed: Description is too long (maximum is "
                f"{MAX_DESCRIPTION} characters)"
            }
        with self.lock:
            entity = self._media({"type": kind, "description": description or None})
            ready = kind == "image"
            self.uploads[entity["id"]] = {
                "entity": entity,
                "bytes": content,
                "mime": mime,
                "polls_left": 0 if ready else self.processing_polls,
                "status_id": None,
            }
            if ready:
                return 200, entity
            return 202, {**entity, "url": None}

    def _media_state(self, media_id: str) -> tuple[int, Any]:
        """``GET /api/v1/media/:id``: 206 with ``url: null`` while processing, then 200."""
        upload = self.uploads.get(media_id)
        if upload is None:
            return 404, NOT_FOUND
        if upload["polls_left"] > 0:
            upload["polls_left"] -= 1
            return 206, {**upload["entity"], "url": None}
        return 200, upload["entity"]

    def _attachments(self, body: Any) -> tuple[int, Any]:
        """The uploads named by ``media_ids[]`` as PostStatusService takes them: at most 4,
        unknown or already attached ids ignored, a video alone, every one processed."""
        ids = [str(i) for i in _as_list(body, "media_ids[]") or _as_list(body, "media_ids")]
        if len(ids) > 4:
            return 422, {"error": "Validation failed: You can't attach more than 4 files."}
        chosen = [
            self.uploads[i]
            for i in ids
            if i in self.uploads and self.uploads[i]["status_id"] is None
        ]
        kinds = {u["entity"]["type"] for u in chosen}
        if len(chosen) > 1 and kinds & {"video", "gifv"}:
            return 422, {
                "error": "Validation failed: You can't attach a video to a post that "
                "already contains images."
            }
        if any(u["polls_left"] > 0 for u in chosen):
            return 422, {
                "error": "Cannot attach files that have not finished processing. Try again in a "
                "moment!"
            }
        return 200, chosen

    def _post_status(self, body: Any) -> tuple[int, Any]:
        params = _flatten(body)
        text = str(params.get("status") or "")
        if not text.strip() and not params.get("media_ids[]"):
            return 422, {"error": "Validation failed: Text can't be blank"}
        visibility = str(params.get("visibility") or "public")
        if visibility not in VISIBILITIES:
            return 422, {"error": "Validation failed: Visibility is not included in the list"}
        parent = params.get("in_reply_to_id")
        if parent is not None and (
            parent not in self.statuses or not self._visible(self.statuses[parent])
        ):
            return 404, NOT_FOUND
        key = params.get("_idempotency")
        known = self._idempotency.get(key) if key else None
        if known is not None and datetime.now(UTC) - known[1] < IDEMPOTENCY_WINDOW:
            return 200, self.status(known[0])
        code, attached = self._attachments(body)
        if code != 200:
            return code, attached
        entity = self.add_status(
            text,
            in_reply_to=parent,
            visibility=visibility,
            language=params.get("language") or "fr",
            spoiler_text=str(params.get("spoiler_text") or ""),
        )
        if attached:
            with self.lock:
                for upload in attached:
                    upload["status_id"] = entity["id"]
                self.statuses[entity["id"]]["media"] = [u["entity"] for u in attached]
            entity = self.status(entity["id"])
        if key:
            self._idempotency[key] = (entity["id"], datetime.now(UTC))
        return 200, entity

    def _report(self, body: Any) -> tuple[int, Any]:
        params = _flatten(body)
        account_id = params.get("account_id")
        if account_id not in self.accounts:
            return 404, NOT_FOUND
        status_ids = [
            str(i) for i in _as_list(body, "status_ids[]") or _as_list(body, "status_ids")
        ]
        for status_id in status_ids:
            record = self.statuses.get(status_id)
            if record is None or record["account_id"] != account_id:
                return 404, NOT_FOUND
        comment = str(params.get("comment") or "")
        if len(comment) > 1000:
            return 422, {"error": "Validation failed: Comment is too long"}
        category = str(params.get("category") or "other")
        if category not in ("spam", "violation", "legal", "other"):
            return 422, {"error": "Validation failed: Category is not included in the list"}
        forward = str(params.get("forward", "false")).lower() in ("1", "true")
        remote = "@" in self.accounts[account_id]["acct"]
        report = {
            "id": str(next(self._serial)),
            "action_taken": False,
            "action_taken_at": None,
            "category": category,
            "comment": comment,
            "forwarded": forward and remote,
            "created_at": iso(datetime.now(UTC)),
            "status_ids": status_ids or None,
            "rule_ids": None,
            "target_account": self.account(account_id),
        }
        self.reports.append(report)
        return 200, report


def _sniff(content: bytes) -> str | None:
    """The type of an uploaded file from its first bytes, as Mastodon reads it (not from
    the type the client declared); None for a type Mastodon does not take."""
    for magic, mime in _MAGIC:
        if content.startswith(magic):
            return mime
    if content[4:8] == b"ftyp":
        return "video/mp4"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return None


def _tags_of(text: str) -> list[str]:
    """The hashtags of a status's text, lowercased, as Mastodon stores them."""
    return sorted({t.group(1).lower() for t in map(_HASHTAG.match, text.split()) if t})


def _truthy(query: dict[str, list[str]], name: str) -> bool:
    return query.get(name, ["false"])[0].lower() in ("1", "true")


def _as_list(body: Any, name: str) -> list[Any]:
    if not isinstance(body, dict) or name not in body:
        return []
    value = body[name]
    return value if isinstance(value, list) else [value]


def _flatten(body: Any) -> dict[str, Any]:
    """Form fields (lists of one value) or JSON fields, as single values."""
    if not isinstance(body, dict):
        return {}
    return {
        key: (value[0] if isinstance(value, list) and len(value) == 1 else value)
        for key, value in body.items()
    }
