"""A fake Bluesky: an XRPC PDS/AppView on the loopback scaffold and a Jetstream WebSocket.

The XRPC side answers as the atproto lexicons and Bluesky's documentation say: ``GET`` for
queries and ``POST`` for procedures under ``/xrpc/<nsid>``, JSON bodies, errors as
``{"error": "<Name>", "message": "..."}`` (``AuthenticationRequired`` 401 at createSession,
``ExpiredToken``/``InvalidToken`` 400 for a bad access token, ``AuthMissing`` 401,
``RateLimitExceeded`` 429, ``InvalidRequest``/``NotFound``/``RecordNotFound`` 400,
``MethodNotImplemented`` 501), and the ``ratelimit-limit``, ``ratelimit-remaining``,
``ratelimit-reset`` (epoch seconds) and ``ratelimit-policy`` headers on every answer.
Sessions are JWTs (access 2 hours, as the PDS issues them) whose payload the SDK reads.

Each procedure checks its documented body and answers 400 ``InvalidRequest`` otherwise, so a
test can rely on the recorded request being the documented one.

``createRecord`` takes a client-chosen ``rkey`` as the PDS does: it must be a TID for a post
("Invalid record key for app.bsky.feed.post: …", 400 ``InvalidRequest``), and a key that
exists is refused with the lexicons' ``RecordAlreadyExists`` (400, "Record already exists:
app.bsky.feed.post/<rkey>"; bluesky-social/atproto#4728) — or, with
:attr:`FakeBluesky.record_exists_as_500`, with the 500 ``InternalServerError`` the reference
PDS answered before that change (atproto#3718). ``getRecord`` reads the posts too.

Bluesky's chat service is reached through the PDS with the header ``atproto-proxy:
did:web:api.bsky.chat#bsky_chat`` (without it the PDS does not know the method):
``chat.bsky.convo.getConvoForMembers`` gets or creates the one-to-one conversation
(``convoView``) and ``chat.bsky.convo.sendMessage`` posts a ``messageView`` in it. An app
password without access to direct messages gets 400 ``InvalidToken`` "Bad token scope"; a
recipient who does not accept messages from the account gets the lexicon's error
(``MessagesDisabled``, ``NotFollowedBySender``…) with the service's sentence.

:class:`FakeJetstream` serves ``/subscribe?wantedCollections=...&cursor=<time_us>``: the
stored commit events from the cursor on, then one "live" event stamped with the present (as
the real stream reaches real time), then nothing until the client closes.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.sync.server import Server, ServerConnection, serve

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply

CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
#: The chat service's words for each refusal of a conversation (the lexicon's error names).
CHAT_REFUSALS = {
    "MessagesDisabled": "recipient has disabled incoming messages",
    "NotFollowedBySender": "recipient requires incoming messages to come from someone they follow",
    "BlockedActor": "block between recipient and sender",
}
OWN_HANDLE = "mairie.bsky.social"
OWN_DID = "did:plc:mairie4ville5exemple6abc"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
LABELER_DID = "did:plc:ar7c4by46qjdydhdevvrndac"
POST = "app.bsky.feed.post"
#: The syntax of a TID (atproto's ``@atproto/syntax``).
TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
THREADGATE = "app.bsky.feed.threadgate"
REASON_TYPES = frozenset(
    f"com.atproto.moderation.defs#{name}"
    for name in (
        "reasonSpam",
        "reasonViolation",
        "reasonMisleading",
        "reasonSexual",
        "reasonRude",
        "reasonOther",
        "reasonAppeal",
    )
)

QUERIES = frozenset(
    {
        "app.bsky.feed.getAuthorFeed",
        "app.bsky.feed.getPostThread",
        "app.bsky.feed.getPosts",
        "app.bsky.feed.searchPosts",
        "app.bsky.notification.listNotifications",
        "com.atproto.repo.getRecord",
        "chat.bsky.convo.getConvoForMembers",
    }
)
PROCEDURES = frozenset(
    {
        "com.atproto.server.createSession",
        "com.atproto.server.refreshSession",
        "com.atproto.repo.createRecord",
        "com.atproto.repo.putRecord",
        "com.atproto.repo.deleteRecord",
        "com.atproto.moderation.createReport",
        "com.atproto.repo.uploadBlob",
        "chat.bsky.convo.sendMessage",
    }
)
#: Procedures whose input is not JSON (``*/*``: the file itself).
BINARY_PROCEDURES = frozenset({"com.atproto.repo.uploadBlob"})
#: What ``app.bsky.embed.images`` takes: at most 4 images of type ``image/*``, each at most
#: 1,000,000 bytes (checked when a record refers to the blob, not at its upload).
MAX_IMAGES = 4
MAX_IMAGE_BYTES = 1_000_000


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def error(status: int, name: str, message: str, **headers: str) -> Reply:
    """An XRPC error answer."""
    return Reply(status, {"error": name, "message": message}, headers=dict(headers))


def invalid(message: str) -> Reply:
    return error(400, "InvalidRequest", message)


@dataclass
class Account:
    did: str
    handle: str
    display_name: str = ""

    def view(self) -> dict[str, Any]:
        return {
            "did": self.did,
            "handle": self.handle,
            "displayName": self.display_name,
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{self.did}/bafkreiavatar@jpeg",
            "labels": [],
            "createdAt": "2023-05-01T10:00:00.000Z",
        }


@dataclass
class Notification:
    uri: str
    reason: str
    indexed_at: str
    reason_subject: str | None = None


@dataclass
class FakeBluesky(LoopbackServer):
    """The account's PDS and the AppView behind it, in one loopback server."""

    password: str = APP_PASSWORD
    #: The error createSession answers instead of a session (AuthFactorTokenRequired…).
    login_error: Reply | None = None
    access_lifetime: timedelta = timedelta(hours=2)
    #: ``ratelimit-remaining`` sent on answers (a spent window: 0).
    remaining: int = 2999

    accounts: dict[str, Account] = field(default_factory=dict)
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)
    records: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    #: Uploaded blobs by CID: ``{"bytes", "mimeType", "size"}``.
    blobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    reports: list[dict[str, Any]] = field(default_factory=list)
    #: Whether the app password was created with access to direct messages.
    dm_allowed: bool = True
    #: Chat conversations by id (``{"id", "members": [did, ...]}``) and the messages sent.
    convos: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    #: DID → the lexicon error its chat settings give this account (see CHAT_REFUSALS).
    chat_refusals: dict[str, str] = field(default_factory=dict)
    sessions_created: int = 0
    sessions_refreshed: int = 0
    #: Answer a create at an existing rkey as the PDS did before ``RecordAlreadyExists``.
    record_exists_as_500: bool = False

    def __post_init__(self) -> None:
        super().__init__()
        self.unavailable_body = {"error": "InternalServerError", "message": "Internal Server Error"}
        self.own = self.add_account(OWN_HANDLE, "Mairie de Ville", did=OWN_DID)
        self._ids = count(1)
        self._access: set[str] = set()
        self._refresh: set[str] = set()
        self._expired: set[str] = set()
        self._clock = datetime.now(UTC) - timedelta(days=3)

    # --- world -----------------------------------------------------------------------------

    def add_account(self, handle: str, display_name: str = "", did: str | None = None) -> Account:
        did = did or f"did:plc:{handle.split('.')[0].ljust(24, 'x')[:24]}"
        account = Account(did, handle, display_name)
        self.accounts[did] = account
        return account

    def tick(self) -> datetime:
        """A strictly later instant for each new record (indexedAt orders the lists)."""
        self._clock += timedelta(seconds=7)
        return self._clock

    def _tid(self) -> str:
        return f"3l{next(self._ids):011d}"

    def _cid(self) -> str:
        return f"bafyreic{next(self._ids):051d}"

    def add_post(
        self,
        text: str,
        *,
        author: Account | None = None,
        reply_to: str | None = None,
        langs: list[str] | None = None,
        facets: list[dict[str, Any]] | None = None,
        when: datetime | None = None,
        rkey: str | None = None,
        embed: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store a post view (and the reply/mention notifications it causes); ``embed`` is
        the record's ``app.bsky.embed.images``, shown as its ``#view``."""
        author = author or self.own
        moment = when or self.tick()
        uri = f"at://{author.did}/{POST}/{rkey or self._tid()}"
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": iso(moment - timedelta(seconds=1)),
            "langs": langs or ["fr"],
        }
        if facets:
            record["facets"] = facets
        if embed:
            record["embed"] = embed
        if reply_to is not None:
            parent = self.posts[reply_to]
            root = parent["record"].get("reply", {}).get("root") or {
                "uri": parent["uri"],
                "cid": parent["cid"],
            }
            record["reply"] = {"root": root, "parent": {"uri": parent["uri"], "cid": parent["cid"]}}
            parent["replyCount"] += 1
        view = {
            "uri": uri,
            "cid": self._cid(),
            "author": author.view(),
            "record": record,
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 2,
            "quoteCount": 0,
            "indexedAt": iso(moment),
            "viewer": {"threadMuted": False, "embeddingDisabled": False},
            "labels": [],
        }
        if embed:
            view["embed"] = {
                "$type": "app.bsky.embed.images#view",
                "images": [
                    {
                        "thumb": f"https://cdn.bsky.app/img/feed_thumbnail/plain/{author.did}/"
                        f"{image['image']['ref']['$link']}@jpeg",
                        "fullsize": f"https://cdn.bsky.app/img/feed_fullsize/plain/{author.did}/"
                        f"{image['image']['ref']['$link']}@jpeg",
                        "alt": image["alt"],
                    }
                    for image in embed["images"]
                ],
            }
        self.posts[uri] = view
        if author.did != self.own.did:
            if reply_to is not None and self.posts[reply_to]["author"]["did"] == self.own.did:
                self.notifications.append(Notification(uri, "reply", iso(moment), reply_to))
            elif f"@{self.own.handle}" in text:
                self.notifications.append(Notification(uri, "mention", iso(moment)))
        return view

    def add_like(self, uri: str) -> None:
        """A like notification (a reason the connector does not ask for)."""
        liker = self.add_account("fan.bsky.social", "Fan")
        self.notifications.append(
            Notification(
                f"at://{liker.did}/app.bsky.feed.like/{self._tid()}", "like", iso(self.tick()), uri
            )
        )

    # --- sessions --------------------------------------------------------------------------

    def _jwt(self, scope: str, lifetime: timedelta) -> str:
        now = int(time.time())
        header = _b64({"typ": "at+jwt" if scope != "refresh" else "refresh+jwt", "alg": "ES256K"})
        payload = _b64(
            {
                "scope": scope,
                "sub": self.own.did,
                "aud": "did:web:bsky.social",
                "iat": now,
                "exp": now + int(lifetime.total_seconds()),
                "jti": f"j{next(self._ids)}",
            }
        )
        return f"{header}.{payload}.c2lnbmF0dXJl"

    def _session(self) -> dict[str, Any]:
        scope = "com.atproto.appPassPrivileged" if self.dm_allowed else "com.atproto.appPass"
        access = self._jwt(scope, self.access_lifetime)
        refresh = self._jwt("com.atproto.refresh", timedelta(days=90))
        self._access.add(access)
        self._refresh.add(refresh)
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": self.own.handle,
            "did": self.own.did,
            "email": "com@mairie.example",
            "emailConfirmed": True,
            "active": True,
        }

    def expire_sessions(self) -> None:
        """Every access and refresh token issued so far is now expired."""
        with self.lock:
            self._expired |= self._access | self._refresh

    def revoke(self) -> None:
        """The app password was deleted: it and the sessions it opened stop working."""
        with self.lock:
            self.password = "revoked-" + self.password
            self._access.clear()
            self._refresh.clear()

    # --- dispatch --------------------------------------------------------------------------

    def _rate_headers(self) -> dict[str, str]:
        return {
            "ratelimit-limit": "3000",
            "ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": str(int(time.time()) + 300),
            "ratelimit-policy": "3000;w=300",
        }

    def check_auth(self, request: RecordedRequest) -> Reply | None:
        nsid = request.path.removeprefix("/xrpc/")
        if nsid == "com.atproto.server.createSession":
            return None
        token = request.authorization.removeprefix("Bearer ").strip()
        if not request.authorization.startswith("Bearer ") or not token:
            return error(401, "AuthMissing", "Authentication Required")
        if token in self._expired:
            return error(400, "ExpiredToken", "Token has expired")
        wanted = self._refresh if nsid == "com.atproto.server.refreshSession" else self._access
        if token not in wanted:
            return error(400, "InvalidToken", "Token could not be verified")
        return None

    def _dispatch(self, request: RecordedRequest) -> tuple[Reply, bool] | None:
        outcome = super()._dispatch(request)
        if outcome is None:
            return None
        reply, truncated = outcome
        headers = {**self._rate_headers(), **reply.headers}
        return dataclasses.replace(reply, headers=headers), truncated

    def handle(self, request: RecordedRequest) -> Reply:
        if not request.path.startswith("/xrpc/"):
            return Reply(404, {"error": "NotFound", "message": "Not Found"})
        nsid = request.path.removeprefix("/xrpc/")
        if nsid not in QUERIES and nsid not in PROCEDURES:
            return error(501, "MethodNotImplemented", "Method Not Implemented")
        expected = "GET" if nsid in QUERIES else "POST"
        if request.method != expected:
            return invalid(f"Incorrect HTTP method ({request.method}) expected {expected}")
        if expected == "POST" and nsid not in BINARY_PROCEDURES:
            if request.body is not None and not isinstance(request.body, dict):
                return invalid("Request body must be a JSON object")
            if "json" not in (request.header("Content-Type") or ""):
                if nsid != "com.atproto.server.refreshSession":
                    return invalid(
                        "Wrong request encoding (Content-Type): expected application/json"
                    )
        if nsid.startswith("chat.bsky."):
            if request.header("atproto-proxy") != CHAT_PROXY:
                return error(501, "MethodNotImplemented", "Method Not Implemented")
            if not self.dm_allowed:
                return error(400, "InvalidToken", "Bad token scope")
        handler = getattr(self, "_" + nsid.replace(".", "_"))
        with self.lock:
            return handler(request)  # type: ignore[no-any-return]

    # --- com.atproto.server ------------------------------------------------------------------

    def _com_atproto_server_createSession(self, request: RecordedRequest) -> Reply:
        body = request.body or {}
        if not isinstance(body.get("identifier"), str) or not isinstance(body.get("password"), str):
            return invalid("Input must have the properties identifier and password")
        if self.login_error is not None:
            return self.login_error
        identifier = body["identifier"].lstrip("@")
        if identifier not in (self.own.handle, self.own.did) or body["password"] != self.password:
            return error(401, "AuthenticationRequired", "Invalid identifier or password")
        self.sessions_created += 1
        return Reply(200, self._session())

    def _com_atproto_server_refreshSession(self, request: RecordedRequest) -> Reply:
        token = request.authorization.removeprefix("Bearer ").strip()
        self._refresh.discard(token)
        self.sessions_refreshed += 1
        return Reply(200, self._session())

    # --- reads -----------------------------------------------------------------------------

    @staticmethod
    def _limit(request: RecordedRequest) -> int | Reply:
        value = request.param("limit") or "50"
        if not str(value).isdigit() or not 1 <= int(value) <= 100:
            return invalid("limit must be an integer between 1 and 100")
        return int(value)

    @staticmethod
    def _paged(
        entries: list[tuple[str, Any]], request: RecordedRequest, limit: int
    ) -> tuple[list[Any], str | None]:
        """Entries (sort key, value) newest first, after the ``cursor`` (a sort key)."""
        ordered = sorted(entries, key=lambda pair: pair[0], reverse=True)
        cursor = request.param("cursor")
        if cursor:
            ordered = [pair for pair in ordered if pair[0] < cursor]
        page = ordered[:limit]
        more = len(ordered) > limit
        return [value for _, value in page], (page[-1][0] if page and more else None)

    def _app_bsky_feed_getAuthorFeed(self, request: RecordedRequest) -> Reply:
        limit = self._limit(request)
        if isinstance(limit, Reply):
            return limit
        actor = request.param("actor")
        if actor not in (self.own.did, self.own.handle):
            return invalid("Profile not found")
        if request.param("filter") not in (None, "posts_with_replies", "posts_no_replies"):
            return invalid("Invalid filter")
        entries = []
        for view in self.posts.values():
            if view["author"]["did"] != self.own.did:
                continue
            entry: dict[str, Any] = {"post": view}
            reply = view["record"].get("reply")
            if reply:
                if request.param("filter") == "posts_no_replies":
                    continue
                entry["reply"] = {
                    "root": {
                        "$type": "app.bsky.feed.defs#postView",
                        **self.posts.get(reply["root"]["uri"], {}),
                    },
                    "parent": {
                        "$type": "app.bsky.feed.defs#postView",
                        **self.posts.get(reply["parent"]["uri"], {}),
                    },
                }
            entries.append((view["indexedAt"], entry))
        page, cursor = self._paged(entries, request, limit)
        payload: dict[str, Any] = {"feed": page}
        if cursor:
            payload["cursor"] = cursor
        return Reply(200, payload)

    def _app_bsky_feed_getPostThread(self, request: RecordedRequest) -> Reply:
        uri = request.param("uri")
        if uri not in self.posts:
            return error(400, "NotFound", f"Post not found: {uri}")

        def node(post_uri: str) -> dict[str, Any]:
            children = [
                node(child)
                for child, view in self.posts.items()
                if view["record"].get("reply", {}).get("parent", {}).get("uri") == post_uri
            ]
            return {
                "$type": "app.bsky.feed.defs#threadViewPost",
                "post": self.posts[post_uri],
                "replies": children,
            }

        return Reply(200, {"thread": node(uri)})

    def _app_bsky_feed_getPosts(self, request: RecordedRequest) -> Reply:
        uris = request.query.get("uris", [])
        if not uris or len(uris) > 25:
            return invalid("uris must be a list of 1 to 25 at-uris")
        return Reply(200, {"posts": [self.posts[u] for u in uris if u in self.posts]})

    def _app_bsky_feed_searchPosts(self, request: RecordedRequest) -> Reply:
        limit = self._limit(request)
        if isinstance(limit, Reply):
            return limit
        q = request.param("q")
        if not q:
            return invalid('Error: Params must have the property "q"')
        since = request.param("since") or ""
        hits = [
            (view["indexedAt"], view)
            for view in self.posts.values()
            if q.casefold() in view["record"]["text"].casefold() and view["indexedAt"] >= since
        ]
        page, cursor = self._paged(hits, request, limit)
        payload: dict[str, Any] = {"posts": page, "hitsTotal": len(hits)}
        if cursor:
            payload["cursor"] = cursor
        return Reply(200, payload)

    def _app_bsky_notification_listNotifications(self, request: RecordedRequest) -> Reply:
        limit = self._limit(request)
        if isinstance(limit, Reply):
            return limit
        if "seenAt" in request.query:
            return invalid("seenAt is not supported")
        reasons = set(request.query.get("reasons", []))
        entries = []
        for notification in self.notifications:
            if reasons and notification.reason not in reasons:
                continue
            view = self.posts.get(notification.uri)
            if notification.reason == "like":
                liker = self.accounts[notification.uri.split("/")[2]]
                author, record = (
                    liker.view(),
                    {
                        "$type": "app.bsky.feed.like",
                        "subject": {"uri": notification.reason_subject, "cid": "bafy"},
                        "createdAt": notification.indexed_at,
                    },
                )
                cid = "bafyreilike"
            elif view is None:
                continue
            else:
                author, record, cid = view["author"], view["record"], view["cid"]
            entry = {
                "uri": notification.uri,
                "cid": cid,
                "author": author,
                "reason": notification.reason,
                "record": record,
                "isRead": False,
                "indexedAt": notification.indexed_at,
                "labels": [],
            }
            if notification.reason_subject:
                entry["reasonSubject"] = notification.reason_subject
            entries.append((notification.indexed_at, entry))
        page, cursor = self._paged(entries, request, limit)
        payload: dict[str, Any] = {"notifications": page, "priority": False}
        if cursor:
            payload["cursor"] = cursor
        return Reply(200, payload)

    def _com_atproto_repo_getRecord(self, request: RecordedRequest) -> Reply:
        key = (request.param("repo"), request.param("collection"), request.param("rkey"))
        if not all(key):
            return invalid("repo, collection and rkey are required")
        stored = self.records.get(key)  # type: ignore[arg-type]
        post = self.posts.get(f"at://{'/'.join(key)}")  # type: ignore[arg-type]
        if stored is None and post is not None and key[1] == POST:
            stored = {"cid": post["cid"], "value": post["record"]}
        if stored is None:
            return error(400, "RecordNotFound", f"Could not locate record: at://{'/'.join(key)}")
        return Reply(200, {"uri": f"at://{'/'.join(key)}", **stored})  # type: ignore[arg-type]

    # --- writes ----------------------------------------------------------------------------

    def _commit(self) -> dict[str, str]:
        return {"cid": self._cid(), "rev": self._tid()}

    def _check_ref(self, ref: Any, what: str) -> str | None:
        if not isinstance(ref, dict) or set(ref) != {"uri", "cid"}:
            return f"{what} must be a strongRef {{uri, cid}}"
        view = self.posts.get(ref["uri"])
        if view is None or view["cid"] != ref["cid"]:
            return f"{what} does not name an existing post (uri and cid)"
        return None

    def _com_atproto_repo_createRecord(self, request: RecordedRequest) -> Reply:
        body = request.body or {}
        if body.get("repo") != self.own.did:
            return error(401, "AuthRequired", "Input/repo must be the authenticated account")
        if body.get("collection") != POST:
            return invalid("This fake only creates posts")
        extra = set(body) - {"repo", "collection", "rkey", "validate", "record", "swapCommit"}
        if extra:
            return invalid(f"Unexpected input properties: {sorted(extra)}")
        rkey = body.get("rkey")
        if rkey is not None and (not isinstance(rkey, str) or not TID.match(rkey)):
            return invalid(f"Invalid record key for {POST}: must be a valid TID")
        record = body.get("record")
        if not isinstance(record, dict) or record.get("$type") != POST:
            return invalid("Invalid app.bsky.feed.post record: $type")
        if not isinstance(record.get("text"), str) or len(record["text"]) > 300:
            return invalid("Record/text must be a string of at most 300 graphemes")
        if not isinstance(record.get("createdAt"), str) or not record["createdAt"].endswith("Z"):
            return invalid("Record/createdAt must be a valid datetime")
        extra = set(record) - {"$type", "text", "createdAt", "reply", "facets", "langs", "embed"}
        if extra:
            return invalid(f"Unexpected record fields: {sorted(extra)}")
        if "embed" in record:
            problem = self._check_embed(record["embed"])
            if problem:
                return invalid(f"Invalid app.bsky.feed.post record: {problem}")
        reply_to = None
        if "reply" in record:
            reply = record["reply"]
            if not isinstance(reply, dict) or set(reply) != {"root", "parent"}:
                return invalid("Record/reply must have root and parent")
            for what in ("root", "parent"):
                problem = self._check_ref(reply[what], f"Record/reply/{what}")
                if problem:
                    return invalid(problem)
            expected_root = (
                self.posts[reply["parent"]["uri"]]["record"].get("reply", {}).get("root")
                or reply["parent"]
            )
            if reply["root"] != expected_root:
                return invalid("Record/reply/root is not the root of the parent's thread")
            reply_to = reply["parent"]["uri"]
        # The record is validated first; the key is found taken when the write is applied.
        if rkey is not None and f"at://{self.own.did}/{POST}/{rkey}" in self.posts:
            if self.record_exists_as_500:
                return error(500, "InternalServerError", "Internal Server Error")
            return error(400, "RecordAlreadyExists", f"Record already exists: {POST}/{rkey}")
        view = self.add_post(
            record["text"],
            reply_to=reply_to,
            facets=record.get("facets"),
            rkey=rkey,
            embed=record.get("embed"),
        )
        return Reply(
            200,
            {
                "uri": view["uri"],
                "cid": view["cid"],
                "commit": self._commit(),
                "validationStatus": "valid",
            },
        )

    def _check_embed(self, embed: Any) -> str | None:
        """What the PDS finds wrong in an ``app.bsky.embed.images`` embed, or None."""
        if not isinstance(embed, dict) or embed.get("$type") != "app.bsky.embed.images":
            return "Record/embed: this fake takes app.bsky.embed.images only"
        images = embed.get("images")
        if not isinstance(images, list) or not images:
            return "Record/embed/images must be an array"
        if len(images) > MAX_IMAGES:
            return f"Record/embed/images must not have more than {MAX_IMAGES} elements"
        for index, image in enumerate(images):
            where = f"Record/embed/images/{index}"
            if not isinstance(image, dict) or not isinstance(image.get("alt"), str):
                return f'{where} must have the property "alt"'
            blob = image.get("image")
            cid = blob.get("ref", {}).get("$link") if isinstance(blob, dict) else None
            if not isinstance(blob, dict) or blob.get("$type") != "blob" or cid not in self.blobs:
                return f"{where}/image should be a blob ref"
            stored = self.blobs[cid]
            if not str(stored["mimeType"]).startswith("image/"):
                return f"{where}/image has a mimetype that is not accepted: {stored['mimeType']}"
            if stored["size"] > MAX_IMAGE_BYTES:
                return f"{where}/image file too big (max {MAX_IMAGE_BYTES} bytes)"
        return None

    def _com_atproto_repo_uploadBlob(self, request: RecordedRequest) -> Reply:
        """The file as the body, its type as Content-Type; the blob ref to put in a record."""
        content = request.raw_body
        mime = (request.header("Content-Type") or "").split(";")[0].strip()
        if not content or not mime or mime == "*/*":
            return invalid("Request encoding (Content-Type) required but not provided")
        cid = f"bafkreib{next(self._ids):051d}"
        self.blobs[cid] = {"bytes": content, "mimeType": mime, "size": len(content)}
        return Reply(
            200,
            {
                "blob": {
                    "$type": "blob",
                    "ref": {"$link": cid},
                    "mimeType": mime,
                    "size": len(content),
                }
            },
        )

    def _com_atproto_repo_putRecord(self, request: RecordedRequest) -> Reply:
        body = request.body or {}
        if body.get("repo") != self.own.did:
            return error(401, "AuthRequired", "Input/repo must be the authenticated account")
        if body.get("collection") != THREADGATE:
            return invalid("This fake only writes threadgates")
        rkey = body.get("rkey")
        record = body.get("record")
        if not isinstance(rkey, str) or not isinstance(record, dict):
            return invalid("Input must have the properties rkey and record")
        if set(body) - {
            "repo",
            "collection",
            "rkey",
            "record",
            "swapRecord",
            "validate",
            "swapCommit",
        }:
            return invalid("Unexpected input properties")
        if record.get("$type") != THREADGATE:
            return invalid("Invalid app.bsky.feed.threadgate record: $type")
        if record.get("post") != f"at://{self.own.did}/{POST}/{rkey}":
            return invalid("Record/post must be the post with the threadgate's rkey")
        if not isinstance(record.get("createdAt"), str):
            return invalid("Record/createdAt must be a valid datetime")
        hidden = record.get("hiddenReplies", [])
        if (
            not isinstance(hidden, list)
            or len(hidden) > 300
            or not all(isinstance(u, str) and u.startswith("at://") for u in hidden)
        ):
            return invalid("Record/hiddenReplies must be a list of at most 300 at-uris")
        if len(set(hidden)) != len(hidden):
            return invalid("Record/hiddenReplies has duplicates")
        key = (self.own.did, THREADGATE, rkey)
        current = self.records.get(key)
        if "swapRecord" in body and (current is None or current["cid"] != body["swapRecord"]):
            return error(400, "InvalidSwap", "Record was at a different cid")
        cid = self._cid()
        self.records[key] = {"cid": cid, "value": record}
        return Reply(
            200,
            {
                "uri": f"at://{'/'.join(key)}",
                "cid": cid,
                "commit": self._commit(),
                "validationStatus": "valid",
            },
        )

    def _com_atproto_repo_deleteRecord(self, request: RecordedRequest) -> Reply:
        body = request.body or {}
        if set(body) - {"repo", "collection", "rkey", "swapRecord", "swapCommit"}:
            return invalid("Unexpected input properties")
        if body.get("repo") != self.own.did:
            return error(401, "AuthRequired", "Input/repo must be the authenticated account")
        if body.get("collection") != POST or not isinstance(body.get("rkey"), str):
            return invalid("Input must have the properties collection and rkey")
        self.posts.pop(f"at://{self.own.did}/{POST}/{body['rkey']}", None)
        return Reply(200, {"commit": self._commit()})

    def _com_atproto_moderation_createReport(self, request: RecordedRequest) -> Reply:
        proxy = request.header("atproto-proxy") or ""
        if proxy != f"{LABELER_DID}#atproto_labeler":
            return invalid("createReport must be proxied to a labeler (atproto-proxy)")
        body = request.body or {}
        if body.get("reasonType") not in REASON_TYPES:
            return invalid("Input/reasonType must be a known reason")
        reason = body.get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > 2000):
            return invalid("Input/reason must be at most 2000 graphemes")
        subject = body.get("subject")
        if not isinstance(subject, dict) or subject.get("$type") != "com.atproto.repo.strongRef":
            return invalid("Input/subject must be a strongRef or a repoRef")
        problem = self._check_ref(
            {k: v for k, v in subject.items() if k != "$type"}, "Input/subject"
        )
        if problem:
            return invalid(problem)
        report = {
            "id": len(self.reports) + 1,
            "reasonType": body["reasonType"],
            "reason": reason,
            "subject": subject,
            "reportedBy": self.own.did,
            "createdAt": iso(datetime.now(UTC)),
        }
        self.reports.append(report)
        return Reply(200, report)

    # --- chat ------------------------------------------------------------------------------

    def _convo_view(self, convo: dict[str, Any]) -> dict[str, Any]:
        members = [self.accounts[did] for did in convo["members"]]
        return {
            "id": convo["id"],
            "rev": self._tid(),
            "members": [
                {"did": m.did, "handle": m.handle, "displayName": m.display_name} for m in members
            ],
            "muted": False,
            "status": "accepted",
            "unreadCount": 0,
        }

    def _chat_bsky_convo_getConvoForMembers(self, request: RecordedRequest) -> Reply:
        members = request.query.get("members") or []
        if not 1 <= len(members) <= 10:
            return invalid("Params must have the property members (1 to 10 DIDs)")
        others = sorted({did for did in members if did != self.own.did})
        for did in others:
            if did not in self.accounts:
                return error(400, "RecipientNotFound", "recipient not found")
            refusal = self.chat_refusals.get(did)
            if refusal is not None:
                return error(400, refusal, CHAT_REFUSALS[refusal])
        wanted = sorted({self.own.did, *others})
        convo = next((c for c in self.convos.values() if c["members"] == wanted), None)
        if convo is None:
            convo = {"id": f"3k{next(self._ids):011d}", "members": wanted}
            self.convos[convo["id"]] = convo
        return Reply(200, {"convo": self._convo_view(convo)})

    def _chat_bsky_convo_sendMessage(self, request: RecordedRequest) -> Reply:
        body = request.body or {}
        if set(body) != {"convoId", "message"} or not isinstance(body["message"], dict):
            return invalid("Input must have the properties convoId and message")
        convo = self.convos.get(str(body["convoId"]))
        if convo is None:
            return error(400, "InvalidConvo", "Convo not found")
        message = body["message"]
        if set(message) - {"text", "facets", "embed"}:
            return invalid("Input/message has unexpected properties")
        text = message.get("text")
        if not isinstance(text, str) or not text or len(text) > 1000:
            return invalid("Input/message/text must be a string of 1 to 1000 graphemes")
        view = {
            "id": f"3m{next(self._ids):011d}",
            "rev": self._tid(),
            "text": text,
            "sender": {"did": self.own.did},
            "sentAt": iso(datetime.now(UTC)),
        }
        self.messages.append({**view, "convoId": convo["id"]})
        return Reply(200, view)


# --- Jetstream -------------------------------------------------------------------------------


class FakeJetstream:
    """Jetstream on a loopback WebSocket: stored commit events, then one live event."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.connections: list[dict[str, list[str]]] = []
        self.lock = threading.Lock()
        self.send_live = True
        self.raw_messages: list[str] = []
        self._server: Server | None = None
        self._revs = count(1)

    def __enter__(self) -> FakeJetstream:
        self._server = serve(self._serve, "127.0.0.1", 0)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/subscribe"

    def add_post(self, view: dict[str, Any], time_us: int | None = None) -> dict[str, Any]:
        """The commit event of a post (a post view of :class:`FakeBluesky`)."""
        did, _, rkey = view["uri"].removeprefix("at://").split("/")
        event = {
            "did": did,
            "time_us": time_us or time.time_ns() // 1000,
            "kind": "commit",
            "commit": {
                "rev": f"3lrev{next(self._revs):08d}",
                "operation": "create",
                "collection": POST,
                "rkey": rkey,
                "record": view["record"],
                "cid": view["cid"],
            },
        }
        with self.lock:
            self.events.append(event)
            self.events.sort(key=lambda e: e["time_us"])
        return event

    def add_other(self, kind: str = "identity") -> None:
        """A non-post event (identity/account), which the connector only counts."""
        now = time.time_ns() // 1000
        with self.lock:
            self.events.append(
                {
                    "did": "did:plc:someone",
                    "time_us": now,
                    "kind": kind,
                    kind: {"did": "did:plc:someone", "seq": 1, "time": iso(datetime.now(UTC))},
                }
            )

    def _serve(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        query = parse_qs(urlsplit(connection.request.path).query)
        with self.lock:
            self.connections.append(query)
            cursor = int(query.get("cursor", ["0"])[0])
            wanted = set(query.get("wantedCollections", []))
            events = [
                e
                for e in self.events
                if e["time_us"] >= cursor
                and (not wanted or e["kind"] != "commit" or e["commit"]["collection"] in wanted)
            ]
            raw = list(self.raw_messages)
        try:
            for message in raw:
                connection.send(message)
            for event in events:
                connection.send(json.dumps(event))
            if self.send_live:
                connection.send(
                    json.dumps(
                        {
                            "did": "did:plc:livelivelivelivelive",
                            "time_us": time.time_ns() // 1000,
                            "kind": "commit",
                            "commit": {
                                "rev": "3lrevlive",
                                "operation": "create",
                                "collection": POST,
                                "rkey": "3llive",
                                "record": {
                                    "$type": POST,
                                    "text": "live",
                                    "createdAt": iso(datetime.now(UTC)),
                                },
                                "cid": "bafyreilive",
                            },
                        }
                    )
                )
            for _ in connection:
                pass  # wait for the client to close
        except Exception:  # noqa: S110 (the client went away)
            pass
