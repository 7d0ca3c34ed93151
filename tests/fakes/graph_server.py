"""A fake of Meta's Graph API (Facebook Pages and Instagram professional accounts).

It answers as Meta documents, for the endpoints the two connectors use, under
``/v21.0/``: field selection (``fields=``, with ``comments.limit(0).summary(true)``,
``replies{...}``, and nested selection such as ``parent{id}``, ``attachments{...}``,
``attachment{...}`` and ``children{...}``: an edge answers ``{"data": [...]}`` with the
fields asked for and each node's ``id``), cursor pagination (``{"data": [...], "paging":
{"cursors": {"before", "after"}, "next"}}``), time filters (``since``), the Graph error body
``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`` (HTTP 400, with
``WWW-Authenticate`` for token errors) and the usage headers ``X-App-Usage`` and
``X-Business-Use-Case-Usage``. Every write checks its documented method, path and
parameters and answers Graph's ``(#100)`` error otherwise.

Publishing on a Page: ``POST /{page-id}/feed`` (``message``, ``link``, ``attached_media[n]``
naming unpublished photos of the Page), ``POST /{page-id}/photos`` (``url``, ``caption``,
``alt_text_custom``, ``published=false`` for a photo kept for a later post: answered with
its ``id`` alone), and a post's ``reactions``/``comments`` summaries and ``shares`` read
back. An image address Meta cannot fetch (:attr:`FakeGraph.unfetchable`) is refused with
``(#324) Missing or invalid image file`` on Facebook, and on Instagram with error 9004,
subcode 2207052 (the media could not be fetched from the URI).

:meth:`FakeGraph.webhook_delivery` builds a ``page`` webhook delivery and its real
``X-Hub-Signature-256`` header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply

VERSION = "v21.0"


def graph_time(moment: datetime) -> str:
    """Graph's date format: ``2024-05-01T10:00:00+0000``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def graph_error(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    kind: str = "OAuthException",
    status: int = 400,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """A documented Graph error answer."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "AbCdEfGhIjK"
    all_headers = dict(headers or {})
    if code == 190:
        all_headers["WWW-Authenticate"] = f'OAuth "Facebook Platform" "invalid_token" "{message}"'
    return Reply(status, {"error": error}, all_headers)


def app_usage(percent: int) -> dict[str, str]:
    """An ``X-App-Usage`` header at ``percent`` %."""
    usage = {"call_count": percent, "total_cputime": 1, "total_time": 1}
    return {"X-App-Usage": json.dumps(usage)}


def buc_usage(business_id: str, percent: int, minutes: int, kind: str = "pages") -> dict[str, str]:
    """An ``X-Business-Use-Case-Usage`` header for one business object."""
    usage = {
        business_id: [
            {
                "type": kind,
                "call_count": percent,
                "total_cputime": 1,
                "total_time": 1,
                "estimated_time_to_regain_access": minutes,
            }
        ]
    }
    return {"X-Business-Use-Case-Usage": json.dumps(usage)}


def _split_fields(spec: str) -> list[str]:
    """Top-level fields of a ``fields=`` value (commas inside braces/parentheses kept)."""
    fields, depth, current = [], 0, ""
    for char in spec:
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        if char == "," and depth == 0:
            fields.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        fields.append(current.strip())
    return fields


def _nested(value: Any, spec: str) -> Any:
    """``value`` with only the fields of ``spec`` (the inside of ``name{...}``): an edge's
    entries one by one (``{"data": [...]}``), an object itself; a node keeps its ``id``."""

    def pick(obj: Mapping[str, Any]) -> dict[str, Any]:
        picked: dict[str, Any] = {}
        for field in _split_fields(spec):
            name = field.split("{", 1)[0].split(".", 1)[0]
            if name not in obj:
                continue  # Graph leaves out a field the object does not have
            inner = field[len(name) + 1 : -1] if field.startswith(f"{name}{{") else ""
            picked[name] = _nested(obj[name], inner) if inner else obj[name]
        if "id" in obj:
            picked["id"] = obj["id"]
        return picked

    if isinstance(value, Mapping) and isinstance(value.get("data"), list):
        return {
            **value,
            "data": [pick(e) if isinstance(e, Mapping) else e for e in value["data"]],
        }
    return pick(value) if isinstance(value, Mapping) else value


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    padded = cursor + "=" * (-len(cursor) % 4)
    return int(base64.urlsafe_b64decode(padded).decode().split(":")[1])


def _public(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


class FakeGraph(LoopbackServer):
    """Graph API for one Facebook Page and its linked Instagram professional account."""

    unavailable_body = {
        "error": {
            "message": "An unexpected error has occurred. Please retry your request later.",
            "type": "OAuthException",
            "code": 2,
            "fbtrace_id": "AbCdEfGhIjK",
        }
    }

    def __init__(self) -> None:
        super().__init__()
        self.page_id = "104000000000001"
        self.page_name = "Mairie de Beffroi"
        self.other_page_id = "104000000000002"
        self.page_token = "EAAPage" + "x" * 40
        self.other_page_token = "EAAOther" + "y" * 40
        self.user_token = "EAAUserShort" + "z" * 40
        self.long_user_token = "EAAUserLong" + "w" * 40
        self.client_id = "987654321"
        self.client_secret = "app-secret-never-stored"
        self.ig_user_id = "17841400000000001"
        self.ig_username = "mairie_beffroi"
        #: Headers added to every successful answer (usage headers).
        self.extra_headers: dict[str, str] = {}
        #: Polls of a media container answered IN_PROGRESS before FINISHED.
        self.container_polls = 1
        #: Replies embedded in ``replies{...}`` before the nested edge pages.
        self.nested_replies_limit = 50
        self.posts: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.ig_comments: dict[str, dict[str, Any]] = {}
        self.tags: dict[str, dict[str, Any]] = {}
        self.containers: dict[str, dict[str, Any]] = {}
        self.private_replied: set[str] = set()
        #: Page photos by id: ``{"id", "url", "alt_text_custom", "published", "_post"}``.
        self.photos: dict[str, dict[str, Any]] = {}
        #: Image addresses Meta's servers cannot fetch (a link that expired, a private host).
        self.unfetchable: set[str] = set()
        #: Messages sent by the Send API: ``{"message_id", "from", "recipient", "text"}``.
        self.sent_messages: list[dict[str, Any]] = []
        self.subscribed_fields: list[str] = []
        #: People whose last message is more than 24 hours old (Send API refuses).
        self.outside_window: set[str] = set()
        self._ids = itertools.count(1000)
        self._last = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)

    # --- clock and ids ----------------------------------------------------------------------

    def stamp(self, same_second: bool = False) -> datetime:
        """A strictly increasing time close to now (or the previous one, ``same_second``)."""
        if not same_second:
            now = datetime.now(UTC).replace(microsecond=0)
            self._last = max(now, self._last + timedelta(seconds=1))
        return self._last

    def _next(self) -> int:
        return next(self._ids)

    # --- seeding ---------------------------------------------------------------------------

    def add_post(self, message: str = "Conseil municipal ce soir", **extra: Any) -> str:
        number = self._next()
        post_id = f"{self.page_id}_{number}"
        with self.lock:
            self.posts[post_id] = {
                "id": post_id,
                "message": message,
                "created_time": graph_time(extra.pop("at", None) or self.stamp()),
                "permalink_url": f"https://www.facebook.com/{self.page_id}/posts/{number}",
                "from": {"id": self.page_id, "name": self.page_name},
                "status_type": "mobile_status_update",
                **extra,
            }
        return post_id

    def add_comment(
        self, post_id: str, message: str = "Merci !", parent: str | None = None, **extra: Any
    ) -> str:
        number = self._next()
        post_part = post_id.split("_", 1)[1]
        comment_id = f"{post_part}_{number}"
        with self.lock:
            comment: dict[str, Any] = {
                "id": comment_id,
                "message": message,
                "created_time": graph_time(extra.pop("at", None) or self.stamp()),
                "from": {"id": f"{number}77", "name": f"Habitant {number}"},
                "permalink_url": (
                    f"https://www.facebook.com/{self.page_id}/posts/{post_part}?comment_id={number}"
                ),
                "is_hidden": False,
                "like_count": 0,
                "comment_count": 0,
                "_post": post_id,
                **extra,
            }
            if parent is not None:
                comment["parent"] = {"id": parent}
                self.comments[parent]["comment_count"] += 1
            self.comments[comment_id] = comment
        return comment_id

    def add_message(
        self,
        conversation_id: str | None = None,
        text: str = "Bonjour",
        attachments: list[dict[str, Any]] | None = None,
    ) -> str:
        """A Messenger message; with ``attachments`` (``{"mime_type", "name",
        "image_data"|"video_data"|"file_url"}`` each), its ``attachments`` edge. A photo sent
        alone has ``text=""``, as Graph answers ``"message": ""``."""
        with self.lock:
            if conversation_id is None:
                conversation_id = f"t_{self._next()}"
                self.conversations[conversation_id] = {
                    "id": conversation_id,
                    "updated_time": "",
                    "link": f"/{self.page_id}/inbox/{conversation_id}/",
                    "_messages": [],
                }
            number = self._next()
            moment = graph_time(self.stamp())
            message_id = f"m_{number}"
            self.messages[message_id] = {
                "id": message_id,
                "created_time": moment,
                "from": {"id": f"{number}88", "name": f"Usager {number}", "email": ""},
                "to": {"data": [{"id": self.page_id, "name": self.page_name}]},
                "message": text,
            }
            if attachments:
                self.messages[message_id]["attachments"] = {
                    "data": [
                        {"id": str(self._next()), "size": 1024, **attachment}
                        for attachment in attachments
                    ],
                    "paging": {"cursors": {"before": _encode(0), "after": _encode(0)}},
                }
            conversation = self.conversations[conversation_id]
            conversation["_messages"].append(message_id)
            conversation["updated_time"] = moment
        return message_id

    def add_media(self, caption: str = "La fête du village", **extra: Any) -> str:
        media_id = f"179{self._next():014d}"
        with self.lock:
            self.media[media_id] = {
                "id": media_id,
                "caption": caption,
                "media_type": "IMAGE",
                "media_url": f"https://scontent.cdninstagram.com/{media_id}.jpg",
                "permalink": f"https://www.instagram.com/p/C{media_id[-6:]}/",
                "timestamp": graph_time(extra.pop("at", None) or self.stamp()),
                "username": self.ig_username,
                "comments_count": 0,
                "like_count": 3,
                **extra,
            }
        return media_id

    def add_ig_comment(
        self, media_id: str, text: str = "Super !", parent: str | None = None
    ) -> str:
        number = self._next()
        comment_id = f"178{number:014d}"
        with self.lock:
            comment: dict[str, Any] = {
                "id": comment_id,
                "text": text,
                "timestamp": graph_time(self.stamp()),
                "username": f"habitant{number}",
                "from": {"id": f"{number}99", "username": f"habitant{number}"},
                "like_count": 0,
                "hidden": False,
                "media": {"id": media_id, "media_product_type": "FEED"},
                "_media": media_id,
            }
            if parent is not None:
                comment["parent_id"] = parent
            self.ig_comments[comment_id] = comment
            self.media[media_id]["comments_count"] += 1
        return comment_id

    def add_tag(self, caption: str = "Merci @mairie_beffroi") -> str:
        media_id = f"180{self._next():014d}"
        with self.lock:
            self.tags[media_id] = {
                "id": media_id,
                "caption": caption,
                "media_type": "IMAGE",
                "media_url": f"https://scontent.cdninstagram.com/{media_id}.jpg",
                "permalink": f"https://www.instagram.com/p/T{media_id[-6:]}/",
                "timestamp": graph_time(self.stamp()),
                "username": f"visiteur{media_id[-4:]}",
                "comments_count": 0,
                "like_count": 1,
            }
        return media_id

    # --- webhooks --------------------------------------------------------------------------

    def comment_change(
        self,
        comment_id: str,
        post_id: str,
        *,
        verb: str = "add",
        message: str = "Nouveau commentaire",
        parent_id: str | None = None,
        item: str = "comment",
        created_time: int | None = None,
    ) -> dict[str, Any]:
        """A ``feed`` change as Meta sends it for a comment."""
        value: dict[str, Any] = {
            "from": {"id": "5550001", "name": "Habitante"},
            "post": {"id": post_id, "status_type": "mobile_status_update", "is_published": True},
            "message": message,
            "post_id": post_id,
            "comment_id": comment_id,
            "created_time": created_time or int(datetime.now(UTC).timestamp()),
            "item": item,
            "parent_id": parent_id or post_id,
            "verb": verb,
        }
        if verb == "remove":
            value.pop("message")
        return {"field": "feed", "value": value}

    def ig_comment_change(
        self, comment_id: str, media_id: str, *, text: str = "Joli", parent_id: str | None = None
    ) -> dict[str, Any]:
        """A ``comments`` change as Meta sends it for an Instagram comment."""
        value: dict[str, Any] = {
            "from": {"id": "6660001", "username": "visiteuse", "self_ig_scoped_id": "42"},
            "media": {"id": media_id, "media_product_type": "FEED"},
            "id": comment_id,
            "text": text,
        }
        if parent_id:
            value["parent_id"] = parent_id
        return {"field": "comments", "value": value}

    def webhook_delivery(
        self,
        app_secret: str,
        changes: list[dict[str, Any]],
        page_id: str | None = None,
        *,
        object_type: str = "page",
    ) -> tuple[bytes, dict[str, str]]:
        """The body of a ``page`` (or ``instagram``) delivery and its headers, signed with
        ``app_secret``."""
        account = page_id or (self.ig_user_id if object_type == "instagram" else self.page_id)
        payload = {
            "object": object_type,
            "entry": [
                {
                    "id": account,
                    "time": int(datetime.now(UTC).timestamp()),
                    "changes": changes,
                }
            ],
        }
        # Meta escapes non-ASCII characters (\\uXXXX) in the body it signs, as json.dumps does.
        body = json.dumps(payload).encode()
        signature = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
        return body, {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": f"sha256={signature}",
        }

    # --- dispatch --------------------------------------------------------------------------

    def token_of(self, request: RecordedRequest) -> str:
        header = request.authorization
        if header.startswith(("Bearer ", "OAuth ")):
            return header.split(" ", 1)[1]
        token = request.query.get("access_token")
        return token[0] if token else ""

    def check_auth(self, request: RecordedRequest) -> Reply | None:
        path = request.path.removeprefix(f"/{VERSION}/")
        if path == "oauth/access_token":
            return None
        token = self.token_of(request)
        valid = (
            {self.user_token, self.long_user_token}
            if path.startswith("me/")
            else {self.page_token, self.other_page_token}
        )
        if not token:
            return graph_error(2500, "An active access token must be used to query information.")
        if token not in valid:
            return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
        return None

    def handle(self, request: RecordedRequest) -> Reply:
        if not request.path.startswith(f"/{VERSION}/"):
            return graph_error(2500, "Unknown path components: " + request.path, status=400)
        parts = request.path.removeprefix(f"/{VERSION}/").strip("/").split("/")
        with self.lock:
            reply = self._route(request, parts)
        if reply.status < 400:
            reply.headers = {**self.extra_headers, **reply.headers}
        return reply

    def _route(self, request: RecordedRequest, parts: list[str]) -> Reply:
        method = request.method
        if parts == ["oauth", "access_token"] and method == "GET":
            return self._exchange(request)
        if parts == ["me", "accounts"] and method == "GET":
            return self._accounts(request)
        if len(parts) == 1:
            return self._node(request, parts[0])
        if len(parts) == 2:
            return self._edge(request, parts[0], parts[1])
        return self._missing(request.path)

    # --- OAuth -----------------------------------------------------------------------------

    def _exchange(self, request: RecordedRequest) -> Reply:
        if request.param("grant_type") != "fb_exchange_token":
            return self._invalid("grant_type")
        if request.param("client_id") != self.client_id:
            return graph_error(101, "Error validating application. Invalid application ID.")
        if request.param("client_secret") != self.client_secret:
            return graph_error(1, "Error validating client secret.")
        if request.param("fb_exchange_token") != self.user_token:
            return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
        return Reply(
            200,
            {"access_token": self.long_user_token, "token_type": "bearer", "expires_in": 5183944},
        )

    def _accounts(self, request: RecordedRequest) -> Reply:
        pages = [
            {
                "id": self.page_id,
                "name": self.page_name,
                "access_token": self.page_token,
                "category": "Government organization",
                "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
                "instagram_business_account": {"id": self.ig_user_id, "username": self.ig_username},
            },
            {
                "id": self.other_page_id,
                "name": "Médiathèque",
                "access_token": self.other_page_token,
                "category": "Library",
                "tasks": ["MODERATE"],
            },
        ]
        return self._page(request, pages, "me/accounts")

    # --- reads -----------------------------------------------------------------------------

    def _since(
        self, request: RecordedRequest, items: list[dict[str, Any]], key: str
    ) -> list[dict[str, Any]]:
        since = request.param("since")
        if since is None:
            return items
        floor = datetime.fromtimestamp(int(since), tz=UTC)
        return [i for i in items if datetime.fromisoformat(i[key]) >= floor]

    def _select(self, request: RecordedRequest, obj: Mapping[str, Any]) -> dict[str, Any]:
        spec = request.param("fields")
        if not spec:
            return {"id": obj["id"]}
        selected: dict[str, Any] = {"id": obj["id"]}
        for field in _split_fields(spec):
            name = field.split("{", 1)[0].split(".", 1)[0]
            if name == "comments" and "summary(true)" in field:
                count = sum(1 for c in self.comments.values() if c["_post"] == obj["id"])
                selected["comments"] = {
                    "data": [],
                    "summary": {"order": "ranking", "total_count": count, "can_comment": True},
                }
            elif name == "replies" and obj["id"] in self.ig_comments:
                replies = self._ig_replies(obj["id"])
                shown = [_public(r) for r in replies[: self.nested_replies_limit]]
                edge: dict[str, Any] = {"data": shown}
                if len(replies) > self.nested_replies_limit:
                    edge["paging"] = {
                        "cursors": {"before": _encode(0), "after": _encode(len(shown))},
                        "next": f"{self.base_url}/{VERSION}/{obj['id']}/replies?after="
                        + _encode(len(shown)),
                    }
                if shown:
                    selected["replies"] = edge
            elif name == "reactions" and obj["id"] in self.posts:
                selected["reactions"] = {
                    "data": [],
                    "summary": {"total_count": obj.get("_reactions", 0), "viewer_reaction": "NONE"},
                }
            elif name in obj and not name.startswith("_"):
                inner = field[len(name) + 1 : -1] if field.startswith(f"{name}{{") else ""
                selected[name] = _nested(obj[name], inner) if inner else obj[name]
        return selected

    def _page(self, request: RecordedRequest, items: list[Any], path: str) -> Reply:
        try:
            limit = int(request.param("limit") or 25)
            offset = _decode(request.param("after")) if request.param("after") else 0
        except (ValueError, IndexError):
            return self._invalid("after")
        chunk = items[offset : offset + limit]
        data = [self._select(request, i) if "id" in i else i for i in chunk]
        body: dict[str, Any] = {"data": data}
        if items:
            body["paging"] = {
                "cursors": {"before": _encode(offset), "after": _encode(offset + len(chunk))}
            }
            if offset + limit < len(items):
                body["paging"]["next"] = (
                    f"{self.base_url}/{VERSION}/{path}?limit={limit}"
                    f"&after={_encode(offset + len(chunk))}"
                )
        return Reply(200, body)

    def _desc(self, items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
        return sorted(items, key=lambda i: (i[key], i["id"]), reverse=True)

    def _ig_replies(self, comment_id: str) -> list[dict[str, Any]]:
        replies = [c for c in self.ig_comments.values() if c.get("parent_id") == comment_id]
        return sorted(replies, key=lambda c: c["timestamp"])

    def _edge(self, request: RecordedRequest, node: str, edge: str) -> Reply:
        path = f"{node}/{edge}"
        if request.method == "GET":
            if node == self.page_id and edge in ("published_posts", "feed"):
                posts = self._since(request, list(self.posts.values()), "created_time")
                return self._page(request, self._desc(posts, "created_time"), path)
            if node in self.posts and edge == "comments":
                return self._fb_comments(request, node, path)
            if node == self.page_id and edge == "conversations":
                if request.param("platform") not in (None, "messenger"):
                    return self._invalid("platform")
                conversations = self._desc(list(self.conversations.values()), "updated_time")
                return self._page(request, conversations, path)
            if node in self.conversations and edge == "messages":
                messages = [self.messages[m] for m in self.conversations[node]["_messages"]]
                return self._page(request, self._desc(messages, "created_time"), path)
            if node == self.ig_user_id and edge == "media":
                media = self._since(request, list(self.media.values()), "timestamp")
                return self._page(request, self._desc(media, "timestamp"), path)
            if node in self.media and edge == "comments":
                top = [
                    c
                    for c in self.ig_comments.values()
                    if c["_media"] == node and "parent_id" not in c
                ]
                return self._page(request, self._desc(top, "timestamp"), path)
            if node in self.ig_comments and edge == "replies":
                return self._page(request, self._ig_replies(node), path)
            if node in self.media and edge == "insights":
                if request.param("metric") != "views":
                    return self._invalid("metric")
                views = self.media[node].get("_views", 0)
                return Reply(
                    200,
                    {
                        "data": [
                            {
                                "name": "views",
                                "period": "lifetime",
                                "values": [{"value": views}],
                                "title": "Views",
                                "id": f"{node}/insights/views/lifetime",
                            }
                        ]
                    },
                )
            if node == self.ig_user_id and edge == "tags":
                return self._page(request, self._desc(list(self.tags.values()), "timestamp"), path)
            return self._missing(path)
        if request.method == "POST":
            return self._write_edge(request, node, edge)
        return self._missing(path)

    def _fb_comments(self, request: RecordedRequest, post_id: str, path: str) -> Reply:
        comments = [c for c in self.comments.values() if c["_post"] == post_id]
        if request.param("filter") != "stream":
            comments = [c for c in comments if "parent" not in c]
        if request.param("order") == "reverse_chronological":
            ordered = self._desc(comments, "created_time")
        else:
            ordered = list(reversed(self._desc(comments, "created_time")))
        return self._page(request, ordered, path)

    def _node(self, request: RecordedRequest, node: str) -> Reply:
        if request.method == "GET":
            if node in self.containers:
                container = self.containers[node]
                if container["polls"] > 0:
                    container["polls"] -= 1
                    return Reply(200, {"status_code": "IN_PROGRESS", "id": node})
                container["status_code"] = "FINISHED"
                return Reply(200, {"status_code": "FINISHED", "id": node})
            for table in (self.posts, self.comments, self.media, self.ig_comments):
                if node in table:
                    return Reply(200, self._select(request, table[node]))
            return self._missing(node)
        if request.method == "DELETE":
            for table in (self.posts, self.comments, self.ig_comments):
                if node in table:
                    del table[node]
                    return Reply(200, {"success": True})
            return self._missing(node)
        if request.method == "POST":
            if node in self.comments:
                hidden = request.param("is_hidden")
                if hidden not in ("true", "false"):
                    return self._invalid("is_hidden")
                self.comments[node]["is_hidden"] = hidden == "true"
                return Reply(200, {"success": True})
            if node in self.posts:
                message = request.param("message")
                if not message:
                    return self._invalid("message")
                self.posts[node]["message"] = message
                return Reply(200, {"success": True})
            if node in self.ig_comments:
                hide = request.param("hide")
                if hide not in ("true", "false"):
                    return self._invalid("hide")
                self.ig_comments[node]["hidden"] = hide == "true"
                return Reply(200, {"success": True})
        return self._missing(node)

    # --- writes ----------------------------------------------------------------------------

    def _write_edge(self, request: RecordedRequest, node: str, edge: str) -> Reply:
        if node == self.page_id and edge == "feed":
            return self._feed_post(request)
        if node == self.page_id and edge == "photos":
            return self._page_photo(request)
        if node == self.page_id and edge == "subscribed_apps":
            fields = str(request.param("subscribed_fields") or "")
            if not fields or not set(fields.split(",")) <= {"feed", "messages", "mention"}:
                return self._invalid("subscribed_fields")
            self.subscribed_fields = fields.split(",")
            return Reply(200, {"success": True})
        if node in (self.page_id, self.ig_user_id) and edge == "messages":
            return self._send(request, node)
        if (node in self.posts or node in self.comments) and edge == "comments":
            message = request.param("message")
            if not message:
                return self._invalid("message")
            if node in self.posts:
                return Reply(200, {"id": self.add_comment(node, message)})
            parent = self.comments[node]
            top = parent["parent"]["id"] if "parent" in parent else node
            return Reply(200, {"id": self.add_comment(parent["_post"], message, parent=top)})
        if node in self.media and edge == "comments":
            if not request.param("message"):
                return self._invalid("message")
            return Reply(200, {"id": self.add_ig_comment(node, request.param("message"))})
        if node in self.ig_comments and edge == "replies":
            message = request.param("message")
            if not message:
                return self._invalid("message")
            comment = self.ig_comments[node]
            if "parent_id" in comment:
                return graph_error(100, "(#100) Replies to a reply are not supported.")
            return Reply(200, {"id": self.add_ig_comment(comment["_media"], message, node)})
        if node == self.ig_user_id and edge == "mentions":
            if request.param("media_id") not in self.tags or not request.param("message"):
                return self._invalid("media_id")
            return Reply(200, {"id": f"178{self._next():014d}"})
        if node == self.ig_user_id and edge == "media":
            return self._ig_container(request)
        if node == self.ig_user_id and edge == "media_publish":
            container = self.containers.get(str(request.param("creation_id")))
            if container is None:
                return self._invalid("creation_id")
            if container["status_code"] != "FINISHED" or container["is_carousel_item"]:
                return graph_error(
                    9007, "The media is not ready for publishing, please wait for a moment"
                )
            container["status_code"] = "PUBLISHED"
            return Reply(200, {"id": self._ig_publish(container)})
        return self._missing(f"{node}/{edge}")

    def _ig_container(self, request: RecordedRequest) -> Reply:
        """``POST /{ig-user-id}/media``: an image (``image_url``, ``alt_text``), a video
        (``video_url`` with ``media_type`` ``REELS``, or ``VIDEO`` in a carousel), a carousel
        item (``is_carousel_item=true``, no caption) or a ``CAROUSEL`` of 2 to 10 processed
        items (``children``)."""
        media_type = request.param("media_type") or "IMAGE"
        carousel_item = str(request.param("is_carousel_item") or "false").lower() == "true"
        container: dict[str, Any] = {
            "polls": self.container_polls,
            "status_code": "IN_PROGRESS",
            "caption": request.param("caption") or "",
            "is_carousel_item": carousel_item,
            "media_type": media_type,
            "alt_text": request.param("alt_text") or "",
        }
        if media_type == "CAROUSEL":
            children = [c for c in str(request.param("children") or "").split(",") if c]
            if not 2 <= len(children) <= 10:
                return graph_error(100, "(#100) The parameter children must have 2 to 10 items")
            for child in children:
                found = self.containers.get(child)
                if found is None or not found["is_carousel_item"]:
                    return self._invalid("children")
                if found["status_code"] != "FINISHED":
                    return graph_error(
                        9007, "The media is not ready for publishing, please wait for a moment"
                    )
            container["children"] = children
        elif media_type in ("REELS", "VIDEO"):
            if media_type == "VIDEO" and not carousel_item:
                return graph_error(
                    100, "(#100) The VIDEO media type is only for carousel items: use REELS"
                )
            url = request.param("video_url")
            if not url or not str(url).startswith("https://"):
                return self._invalid("video_url")
            container["video_url"] = url
        elif media_type == "IMAGE":
            url = request.param("image_url")
            if not url or not str(url).startswith("https://"):
                return self._invalid("image_url")
            container["image_url"] = url
        else:
            return self._invalid("media_type")
        if container.get("image_url", container.get("video_url")) in self.unfetchable:
            return graph_error(
                9004,
                "Media download has failed. The media URI doesn't meet our requirements.",
                subcode=2207052,
            )
        container_id = f"177{self._next():014d}"
        self.containers[container_id] = container
        return Reply(200, {"id": container_id})

    def _ig_publish(self, container: dict[str, Any]) -> str:
        """The IG Media a finished container becomes (a carousel with its children)."""

        def slide(part: dict[str, Any]) -> dict[str, Any]:
            url = part.get("image_url") or part.get("video_url")
            kind = "VIDEO" if "video_url" in part else "IMAGE"
            return {
                "id": f"180{self._next():014d}",
                "media_type": kind,
                "media_url": url,
                "_alt_text": part["alt_text"],
            }

        if container["media_type"] == "CAROUSEL":
            slides = [slide(self.containers[c]) for c in container["children"]]
            return self.add_media(
                container["caption"],
                media_type="CAROUSEL_ALBUM",
                media_url=slides[0]["media_url"],
                children={"data": slides},
                like_count=0,
            )
        first = slide(container)
        return self.add_media(
            container["caption"],
            media_type=first["media_type"],
            media_url=first["media_url"],
            _alt_text=first["_alt_text"],
            like_count=0,
        )

    def _photo_attachment(self, photo: dict[str, Any]) -> dict[str, Any]:
        page = f"https://www.facebook.com/photo.php?fbid={photo['id']}&type=3"
        return {
            "media": {"image": {"height": 720, "src": photo["url"], "width": 720}},
            "media_type": "photo",
            "target": {"id": photo["id"], "url": page},
            "type": "photo",
            "url": page,
        }

    def _feed_post(self, request: RecordedRequest) -> Reply:
        """``POST /{page-id}/feed``: ``message``, ``link`` or ``attached_media`` (photos of
        the Page uploaded with ``published=false`` and not yet in a post)."""
        message = request.param("message")
        link = request.param("link")
        attached: list[dict[str, Any]] = []
        index = 0
        while (entry := request.param(f"attached_media[{index}]")) is not None:
            try:
                fbid = str(json.loads(entry)["media_fbid"])
            except (ValueError, KeyError, TypeError):
                return self._invalid(f"attached_media[{index}]")
            photo = self.photos.get(fbid)
            if photo is None or photo["published"] or photo["_post"] is not None:
                return graph_error(
                    100, f"(#100) Invalid media_fbid: {fbid} is not an unpublished photo"
                )
            attached.append(photo)
            index += 1
        if not message and not link and not attached:
            return self._invalid("message")
        extra: dict[str, Any] = {}
        if attached:
            extra["attachments"] = {
                "data": [
                    {
                        "media_type": "album",
                        "type": "album",
                        "subattachments": {"data": [self._photo_attachment(p) for p in attached]},
                    }
                ]
            }
            extra["status_type"] = "added_photos"
        elif link:
            if not str(link).startswith(("https://", "http://")):
                return self._invalid("link")
            extra["attachments"] = {
                "data": [{"media_type": "link", "type": "share", "unshimmed_url": link}]
            }
            extra["status_type"] = "shared_story"
            extra["_link"] = link
        post_id = self.add_post(message or "", **extra)
        for photo in attached:
            photo["_post"] = post_id
        return Reply(200, {"id": post_id})

    def _page_photo(self, request: RecordedRequest) -> Reply:
        """``POST /{page-id}/photos``: a photo post, or with ``published=false`` a photo kept
        for ``attached_media`` (its ``id`` alone)."""
        url = request.param("url")
        if not url or not str(url).startswith("https://"):
            return self._invalid("url")
        if url in self.unfetchable:
            return graph_error(324, "(#324) Missing or invalid image file")
        published = str(request.param("published") or "true").lower() != "false"
        photo_id = str(self._next())
        photo: dict[str, Any] = {
            "id": photo_id,
            "url": url,
            "alt_text_custom": request.param("alt_text_custom") or "",
            "published": published,
            "_post": None,
        }
        self.photos[photo_id] = photo
        if not published:
            return Reply(200, {"id": photo_id})
        post_id = self.add_post(
            request.param("caption") or "",
            full_picture=url,
            status_type="added_photos",
            attachments={"data": [self._photo_attachment(photo)]},
        )
        photo["_post"] = post_id
        return Reply(200, {"id": photo_id, "post_id": post_id})

    def _send(self, request: RecordedRequest, node: str) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        recipient, message = body.get("recipient"), body.get("message")
        if not isinstance(recipient, dict) or not isinstance(message, dict):
            return self._invalid("recipient")
        if not message.get("text"):
            return self._invalid("message")
        comments = self.comments if node == self.page_id else self.ig_comments
        comment_id = recipient.get("comment_id")
        if comment_id is not None:
            if comment_id not in comments:
                return self._invalid("recipient")
            if comment_id in self.private_replied:
                return graph_error(10900, "Activity already replied to", kind="OAuthException")
            self.private_replied.add(comment_id)
            author = comments[comment_id]["from"]["id"]
        elif recipient.get("id") and body.get("messaging_type") == "RESPONSE":
            if recipient["id"] in self.outside_window:
                return graph_error(
                    10, "(#10) This message is sent outside of allowed window.", subcode=2018278
                )
            author = recipient["id"]
        else:
            return self._invalid("recipient")
        message_id = f"m_{self._next()}"
        self.sent_messages.append(
            {
                "message_id": message_id,
                "from": node,
                "recipient": recipient,
                "text": message["text"],
            }
        )
        return Reply(200, {"recipient_id": author, "message_id": message_id})

    # --- errors ----------------------------------------------------------------------------

    def _invalid(self, name: str) -> Reply:
        return graph_error(100, f"(#100) The parameter {name} is required or invalid")

    def _missing(self, what: str) -> Reply:
        return graph_error(
            100,
            f"Unsupported get request. Object with ID '{what}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation.",
            subcode=33,
            kind="GraphMethodException",
        )
