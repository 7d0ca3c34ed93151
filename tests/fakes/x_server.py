"""The X API v2 on 127.0.0.1, answering as X documents (the subset Beffroi uses).

Endpoints: ``GET /2/users/me``, ``GET /2/users/:id/tweets`` (``exclude=retweets``),
``GET /2/users/:id/mentions``, ``GET /2/tweets/search/recent`` (the last 7 days; a query
subset: words, ``"phrases"``, ``from:``/``to:``/``conversation_id:``/``lang:``/``is:retweet``
operators, ``-`` negation, ``OR`` inside parentheses), ``POST /2/tweets``,
``PUT /2/tweets/:id/hidden``, ``DELETE /2/tweets/:id``, ``GET /2/tweets/:id`` (a single post,
its ``tweet.fields``; an unknown one is X's 200 with ``errors`` and no ``data``),
``POST /2/media/upload`` (the simple upload: multipart ``media`` with ``media_category``
``tweet_image``, an image X recognises by its first bytes; 200 ``{"data": {"id",
"media_key", "size", "expires_after_secs", "image"}}``; 403 ``Forbidden`` without the
``media.write`` scope), ``POST /2/media/metadata`` (``{"id", "metadata": {"alt_text":
{"text"}}}``, 1,000 characters at most; the alt text is kept in :attr:`FakeX.uploads`),
``POST /2/tweets`` with ``media.media_ids`` (up to 4 uploaded images; 403 with X's sentence
for a text the account already posted, as X refuses duplicate content) and
``POST /2/dm_conversations/with/:participant_id/messages`` (201 ``{"data":
{"dm_conversation_id", "dm_event_id"}}``; a one-to-one conversation's id is the two user ids
joined by ``-``; 403 ``Forbidden`` without the ``dm.write`` scope, and 403 with X's sentence
when the recipient does not accept Direct Messages from the account, see
:meth:`FakeX.refuse_dms`).

Lists answer newest first: ``{"data": [...], "includes": {"users", "media"}, "meta":
{"result_count", "newest_id", "oldest_id", "next_token"}}`` (``{"meta": {"result_count":
0}}`` when empty), with ``since_id``, ``start_time``, ``max_results`` (5–100; 10–100 for
search) and ``pagination_token`` (``next_token`` for search); an unknown token, field or
parameter is a 400 ``invalid-request`` problem. Posts carry only ``id``, ``text``,
``edit_history_tweet_ids`` and the ``tweet.fields`` asked; users ``id`` and the
``user.fields`` asked; media ``media_key`` and the ``media.fields`` asked. A post longer than
280 characters has its whole text (and its entities) in ``note_tweet`` and the first of them,
ending with ``…``, in ``text``. Post ids are
snowflakes made from their creation time, as X's are. Every answer carries
``x-rate-limit-limit``, ``x-rate-limit-remaining`` and ``x-rate-limit-reset`` (epoch
seconds), counted per endpoint.

Action requests are checked exactly (method, path, JSON body with only the documented keys);
anything else gets X's 400 body. Switches: :meth:`revoke_token` (401), :meth:`rate_limit`
(429), :meth:`usage_cap` (the monthly cap), :meth:`not_enrolled` (403 client-not-enrolled),
:meth:`spend_window` (a success with ``x-rate-limit-remaining: 0``), :meth:`partial_errors`
(a 200 with ``errors`` beside the data), :meth:`refuse_dms`, :meth:`drop_scope` and
:meth:`rewrite_texts` (texts stored as X stores them: links as ``t.co`` addresses, ``&``,
``<``, ``>`` escaped), and the
scaffold's ``script``/``fail_after``/``malformed``/``truncate``/``heal``.
"""

from __future__ import annotations

import base64
import html
import itertools
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply

DEFAULT_TOKEN = "x-user-token-7Hq2ZkP9"
SNOWFLAKE_EPOCH_MS = 1288834974657
RATE_LIMIT = 900
PROBLEM = "application/problem+json"

UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
TOO_MANY = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}
USAGE_CAPPED = {
    "account_id": "1630000000000000000",
    "product_name": "standard-basic",
    "title": "UsageCapExceeded",
    "period": "Monthly",
    "scope": "Product",
    "detail": "Usage cap exceeded: Monthly product cap",
    "type": "https://api.twitter.com/2/problems/usage-capped",
}
NOT_ENROLLED = {
    "client_id": "27316216",
    "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use keys "
    "and tokens from a Twitter developer App that is attached to a Project. You can create a "
    "project via the developer portal.",
    "registration_url": "https://developer.twitter.com/en/docs/projects/overview",
    "title": "Client Forbidden",
    "required_enrollment": "Appropriate Level of API Access",
    "reason": "client-not-enrolled",
    "type": "https://api.twitter.com/2/problems/client-forbidden",
}
SERVICE_UNAVAILABLE = {
    "title": "Service Unavailable",
    "detail": "Service Unavailable",
    "type": "about:blank",
    "status": 503,
}

#: The scopes an account connected with Beffroi's OAuth request holds.
GRANTED_SCOPES = frozenset(
    {
        "tweet.read",
        "tweet.write",
        "users.read",
        "tweet.moderate.write",
        "dm.read",
        "dm.write",
        "media.write",
        "offline.access",
    }
)
#: The longest ``text`` of a post; a longer post has its whole text in ``note_tweet``.
LONG_POST = 280
#: What X says when the account posts a text it already posted.
DUPLICATE_CONTENT = "You are not allowed to create a Tweet with duplicate content."
#: The first bytes of the images the simple upload takes, and their types.
IMAGE_SIGNATURES = {
    b"\x89PNG": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"RIFF": "image/webp",
    b"GIF8": "image/gif",
}
MEDIA_CATEGORIES = {"tweet_image", "tweet_gif", "tweet_video", "dm_image", "dm_gif", "dm_video"}
#: What X says when the recipient does not accept Direct Messages from the sender (the
#: sentence of its documented error 349, "You cannot send messages to this user").
DM_NOT_ACCEPTED = "You cannot send messages to this user."

TWEET_FIELDS = {
    "attachments",
    "author_id",
    "context_annotations",
    "conversation_id",
    "created_at",
    "edit_controls",
    "entities",
    "geo",
    "in_reply_to_user_id",
    "lang",
    "note_tweet",
    "possibly_sensitive",
    "public_metrics",
    "referenced_tweets",
    "reply_settings",
    "source",
}
USER_FIELDS = {"created_at", "description", "name", "profile_image_url", "username", "verified"}
MEDIA_FIELDS = {
    "alt_text",
    "duration_ms",
    "height",
    "preview_image_url",
    "type",
    "url",
    "variants",
    "width",
}
POLL_FIELDS = {"duration_minutes", "end_datetime", "id", "options", "voting_status"}
EXPANSIONS = {
    "attachments.media_keys",
    "attachments.poll_ids",
    "author_id",
    "in_reply_to_user_id",
    "referenced_tweets.id",
    "referenced_tweets.id.author_id",
}
LIST_PARAMS = {
    "tweet.fields",
    "user.fields",
    "media.fields",
    "poll.fields",
    "expansions",
    "max_results",
    "since_id",
    "until_id",
    "start_time",
    "end_time",
}

_MENTION = re.compile(r"(?<!\w)@(\w{1,15})")
_URL = re.compile(r"https?://\S+")
_QUERY_TOKEN = re.compile(r'\(|\)|-?"[^"]*"|\S+?(?=\)|\s|$)')


def iso(moment: datetime) -> str:
    """X's dates: ``2022-06-04T19:01:05.000Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def invalid_request(message: str, parameters: dict[str, list[str]] | None = None) -> Reply:
    """X's 400 body for an invalid parameter or body."""
    return Reply(
        400,
        {
            "errors": [{"parameters": parameters or {}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
        content_type=PROBLEM,
    )


def forbidden(detail: str) -> Reply:
    return Reply(
        403,
        {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": detail},
        content_type=PROBLEM,
    )


class FakeX(LoopbackServer):
    """X's API v2 for one connected account (``me``) and the people around it."""

    unavailable_body = SERVICE_UNAVAILABLE

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        super().__init__()
        self.token = token
        self.revoked = False
        self.users: dict[str, dict[str, Any]] = {}
        self.tweets: dict[str, dict[str, Any]] = {}
        self.hidden: set[str] = set()
        self.media: dict[str, dict[str, Any]] = {}
        self.polls: dict[str, dict[str, Any]] = {}
        self.windows: dict[str, int] = {}
        self.partial: bool = False
        #: Whether a post's ``text`` is stored as X stores it (:meth:`rewrite_texts`): links
        #: as ``t.co`` addresses, ``&``, ``<`` and ``>`` as entities. Off by default: the
        #: older tests read a text as it was sent.
        self.rewrites_texts = False
        self.scopes: set[str] = set(GRANTED_SCOPES)
        #: Users who do not accept Direct Messages from the account.
        self.closed_dms: set[str] = set()
        #: Direct Messages sent: ``{"id", "dm_conversation_id", "sender_id",
        #: "participant_id", "text"}``.
        self.dm_events: list[dict[str, Any]] = []
        #: Media uploaded, by media id: ``{"id", "media_key", "content", "type",
        #: "category", "alt_text"}``.
        self.uploads: dict[str, dict[str, Any]] = {}
        self._sequence = itertools.count(1)
        self._last_ms = 0
        self._tokens: dict[str, tuple[str, str]] = {}
        self.me = self.add_user("mairie", "Mairie de Beffroi")

    # --- world -----------------------------------------------------------------------------

    def _snowflake(self, moment: datetime) -> str:
        ms = int(moment.timestamp() * 1000)
        return str(((ms - SNOWFLAKE_EPOCH_MS) << 22) | (next(self._sequence) & 0xFFF))

    def add_user(self, username: str, name: str = "") -> dict[str, Any]:
        user = {
            "id": self._snowflake(datetime(2015, 1, 1, tzinfo=UTC)),
            "username": username,
            "name": name or username.title(),
        }
        with self.lock:
            self.users[user["id"]] = user
        return user

    def _username(self, username: str) -> dict[str, Any] | None:
        return next(
            (u for u in self.users.values() if u["username"].lower() == username.lower()), None
        )

    def add_tweet(
        self,
        text: str,
        *,
        author: dict[str, Any] | None = None,
        in_reply_to: str | None = None,
        days_ago: float = 0,
        media: tuple[dict[str, Any], ...] = (),
        lang: str = "fr",
        poll: tuple[str, ...] = (),
        retweet_of: str | None = None,
    ) -> dict[str, Any]:
        """A post; a reply starts with ``@author`` of its parent, as X's apps write it; a
        retweet (``retweet_of``) is ``RT @author: `` and the original's text."""
        author = author or self.me
        if retweet_of is not None:
            original = self.tweets[retweet_of]
            text = f"RT @{self.users[original['author_id']]['username']}: {original['text']}"
        with self.lock:
            moment = datetime.now(UTC) - timedelta(days=days_ago)
            ms = int(moment.timestamp() * 1000)
            if not days_ago:
                # Keep ids increasing even within one millisecond.
                ms = max(ms, self._last_ms + 1)
                self._last_ms = ms
                moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
            post_id = self._snowflake(moment)
            tweet: dict[str, Any] = {
                "id": post_id,
                "text": text,
                "edit_history_tweet_ids": [post_id],
                "created_at": iso(moment),
                "author_id": author["id"],
                "conversation_id": post_id,
                "lang": lang,
                "public_metrics": {
                    "retweet_count": 0,
                    "reply_count": 0,
                    "like_count": 2,
                    "quote_count": 0,
                    "bookmark_count": 0,
                    "impression_count": 10,
                },
            }
            if in_reply_to is not None:
                parent = self.tweets[in_reply_to]
                parent_author = self.users[parent["author_id"]]
                if not text.startswith(f"@{parent_author['username']}"):
                    tweet["text"] = text = f"@{parent_author['username']} {text}"
                tweet["conversation_id"] = parent["conversation_id"]
                tweet["in_reply_to_user_id"] = parent["author_id"]
                tweet["referenced_tweets"] = [{"type": "replied_to", "id": in_reply_to}]
                parent["public_metrics"]["reply_count"] += 1
            if retweet_of is not None:
                tweet["referenced_tweets"] = [{"type": "retweeted", "id": retweet_of}]
            tweet["_sent"] = text
            entities = self._entities(text)
            if self.rewrites_texts:
                text, entities = self._rewritten(text, entities)
            if len(text) > LONG_POST:
                # A long post: its whole text in note_tweet, text its first characters.
                tweet["note_tweet"] = {"text": text, "entities": entities}
                text = text[: LONG_POST - 1].rstrip() + "…"
                entities = {
                    name: [e for e in found if e["end"] < len(text)]
                    for name, found in entities.items()
                }
                entities = {name: found for name, found in entities.items() if found}
            tweet["text"] = text
            if entities:
                tweet["entities"] = entities
            if media:
                keys = []
                for entry in media:
                    key = f"3_{next(self._sequence)}"
                    self.media[key] = {"media_key": key, **entry}
                    keys.append(key)
                tweet["attachments"] = {"media_keys": keys}
            if poll:
                poll_id = str(next(self._sequence) + 1_000_000)
                self.polls[poll_id] = {
                    "id": poll_id,
                    "options": [
                        {"position": n, "label": label, "votes": 0}
                        for n, label in enumerate(poll, start=1)
                    ],
                    "duration_minutes": 1440,
                    "voting_status": "open",
                }
                tweet.setdefault("attachments", {})["poll_ids"] = [poll_id]
            self.tweets[post_id] = tweet
        return tweet

    def _rewritten(self, text: str, entities: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """``text`` as X stores and answers it: each link its ``t.co`` address (``expanded_url``
        keeps the address sent), ``&``, ``<`` and ``>`` escaped; the entities at their new
        places."""
        parts: list[str] = []
        urls = []
        position = 0
        for entry in sorted(entities.get("urls", []), key=lambda e: e["start"]):
            parts.append(html.escape(text[position : entry["start"]], quote=False))
            start = sum(len(part) for part in parts)
            parts.append(entry["url"])
            urls.append({**entry, "start": start, "end": start + len(entry["url"])})
            position = entry["end"]
        parts.append(html.escape(text[position:], quote=False))
        rewritten = "".join(parts)
        found = {k: v for k, v in self._entities(rewritten).items() if k != "urls"}
        if urls:
            found["urls"] = urls
        return rewritten, found

    def _entities(self, text: str) -> dict[str, Any]:
        entities: dict[str, Any] = {}
        mentions = []
        for match in _MENTION.finditer(text):
            user = self._username(match.group(1))
            if user is not None:
                mentions.append(
                    {
                        "start": match.start(),
                        "end": match.end(),
                        "username": user["username"],
                        "id": user["id"],
                    }
                )
        if mentions:
            entities["mentions"] = mentions
        urls = [
            {
                "start": match.start(),
                "end": match.end(),
                "url": f"https://t.co/{abs(hash(match.group())) % 10**8}",
                "expanded_url": match.group(),
                "display_url": match.group().split("://", 1)[1][:25],
            }
            for match in _URL.finditer(text)
        ]
        if urls:
            entities["urls"] = urls
        return entities

    # --- switches --------------------------------------------------------------------------

    def revoke_token(self) -> None:
        """The user revoked the app, or the 2-hour access token expired."""
        self.revoked = True

    def rate_limit(self, times: int = 50, *, reset_in: int = 600, path: str = "/2/") -> None:
        """The next ``times`` requests under ``path`` get X's 429."""
        reset = str(int(time.time()) + reset_in)
        headers = {
            "x-rate-limit-limit": str(RATE_LIMIT),
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": reset,
        }
        self.script(path, Reply(429, TOO_MANY, headers, content_type=PROBLEM), times=times)

    def usage_cap(self, times: int = 50, *, status: int = 429) -> None:
        """The project's monthly post cap is spent."""
        headers = {"x-rate-limit-limit": "40000", "x-rate-limit-remaining": "39999"}
        self.script("/2/", Reply(status, USAGE_CAPPED, headers, content_type=PROBLEM), times=times)

    def not_enrolled(self, times: int = 50) -> None:
        """The app is not attached to a Project with the needed access level."""
        self.script("/2/", Reply(403, NOT_ENROLLED, content_type=PROBLEM), times=times)

    def spend_window(self, endpoint: str) -> None:
        """The next answer of ``endpoint`` says its window is spent (remaining 0)."""
        with self.lock:
            self.windows[endpoint] = 1

    def partial_errors(self) -> None:
        """List answers carry X's partial ``errors`` beside their data."""
        self.partial = True

    def rewrite_texts(self) -> None:
        """Posts created from now on are stored as X documents it: every link in ``text`` is
        wrapped as a ``t.co`` address (``entities.urls`` gives the original) and ``&``,
        ``<``, ``>`` are HTML entities."""
        with self.lock:
            self.rewrites_texts = True

    def refuse_dms(self, user: dict[str, Any]) -> None:
        """``user`` accepts Direct Messages only from accounts they follow (not this one)."""
        with self.lock:
            self.closed_dms.add(user["id"])

    def drop_scope(self, scope: str) -> None:
        """The token was granted without ``scope`` (connected before it was asked)."""
        with self.lock:
            self.scopes.discard(scope)

    def heal(self) -> None:
        super().heal()
        with self.lock:
            self.revoked = False
            self.windows.clear()
            self.partial = False

    # --- dispatch --------------------------------------------------------------------------

    def check_auth(self, request: RecordedRequest) -> Reply | None:
        if self.revoked or request.authorization != f"Bearer {self.token}":
            return Reply(401, UNAUTHORIZED, content_type=PROBLEM)
        return None

    def handle(self, request: RecordedRequest) -> Reply:
        path = request.path
        parts = path.strip("/").split("/")
        reply: Reply
        if request.method == "GET" and path == "/2/users/me":
            reply = self._me(request)
            endpoint = "users_me"
        elif request.method == "GET" and len(parts) == 4 and parts[:2] == ["2", "users"]:
            endpoint = f"users_{parts[3]}"
            reply = self._timeline(request, parts[2], parts[3])
        elif request.method == "GET" and path == "/2/tweets/search/recent":
            endpoint = "search_recent"
            reply = self._search(request)
        elif request.method == "POST" and path == "/2/tweets":
            endpoint = "tweets_create"
            reply = self._create(request)
        elif request.method == "GET" and len(parts) == 3 and parts[:2] == ["2", "tweets"]:
            endpoint = "tweets_lookup"
            reply = self._lookup(request, parts[2])
        elif request.method == "POST" and path == "/2/media/upload":
            endpoint = "media_upload"
            reply = self._upload(request)
        elif request.method == "POST" and path == "/2/media/metadata":
            endpoint = "media_metadata"
            reply = self._metadata(request)
        elif request.method == "PUT" and len(parts) == 4 and parts[3] == "hidden":
            endpoint = "tweets_hidden"
            reply = self._hide(request, parts[2])
        elif request.method == "DELETE" and len(parts) == 3 and parts[:2] == ["2", "tweets"]:
            endpoint = "tweets_delete"
            reply = self._delete(request, parts[2])
        elif (
            request.method == "POST"
            and len(parts) == 5
            and parts[:3] == ["2", "dm_conversations", "with"]
            and parts[4] == "messages"
        ):
            endpoint = "dm_create"
            reply = self._direct_message(request, parts[3])
        else:
            return Reply(
                404,
                {"errors": [{"message": "Sorry, that page does not exist", "code": 34}]},
            )
        reply.headers.update(self._window(endpoint))
        return reply

    def _window(self, endpoint: str) -> dict[str, str]:
        with self.lock:
            left = self.windows.get(endpoint, RATE_LIMIT) - 1
            self.windows[endpoint] = left
        return {
            "x-rate-limit-limit": str(RATE_LIMIT),
            "x-rate-limit-remaining": str(max(0, left)),
            "x-rate-limit-reset": str(int(time.time()) + 900),
        }

    # --- reads -----------------------------------------------------------------------------

    def _fields(self, request: RecordedRequest, name: str, allowed: set[str]) -> set[str] | Reply:
        value = request.param(name)
        fields = set(value.split(",")) if value else set()
        unknown = fields - allowed
        if unknown:
            return invalid_request(
                f"The `{name}` query parameter value [{sorted(unknown)[0]}] is not one of "
                f"{sorted(allowed)}",
                {name: [value]},
            )
        return fields

    def _me(self, request: RecordedRequest) -> Reply:
        fields = self._fields(request, "user.fields", USER_FIELDS)
        if isinstance(fields, Reply):
            return fields
        return Reply(200, {"data": self._user(self.me, fields | {"name", "username"})})

    @staticmethod
    def _user(user: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        return {key: value for key, value in user.items() if key == "id" or key in fields}

    def _timeline(self, request: RecordedRequest, user_id: str, kind: str) -> Reply:
        user = self.users.get(user_id)
        if kind not in ("tweets", "mentions"):
            return Reply(404, {"errors": [{"message": "Sorry, that page does not exist"}]})
        if user is None:
            return Reply(
                200,
                {
                    "errors": [
                        {
                            "value": user_id,
                            "detail": f"Could not find user with id: [{user_id}].",
                            "title": "Not Found Error",
                            "resource_type": "user",
                            "parameter": "id",
                            "resource_id": user_id,
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        }
                    ]
                },
            )
        extra = {"pagination_token"} | ({"exclude"} if kind == "tweets" else set())
        unknown = set(request.query) - LIST_PARAMS - extra
        if unknown:
            return invalid_request(f"The query parameter [{sorted(unknown)[0]}] is not one of ...")
        exclude = set((request.param("exclude") or "").split(",")) - {""}
        if exclude - {"retweets", "replies"}:
            return invalid_request("The `exclude` query parameter value is invalid")
        with self.lock:
            if kind == "tweets":
                posts = [
                    t
                    for t in self.tweets.values()
                    if t["author_id"] == user_id
                    and not ("replies" in exclude and t.get("in_reply_to_user_id"))
                    and not ("retweets" in exclude and _retweeted(t))
                ]
            else:
                posts = [
                    t
                    for t in self.tweets.values()
                    if t["author_id"] != user_id
                    and any(m["id"] == user_id for m in t.get("entities", {}).get("mentions", []))
                ]
        return self._list(request, posts, "pagination_token", minimum=5, path=request.path)

    def _search(self, request: RecordedRequest) -> Reply:
        unknown = set(request.query) - LIST_PARAMS - {"query", "next_token", "sort_order"}
        if unknown:
            return invalid_request(f"The query parameter [{sorted(unknown)[0]}] is not one of ...")
        query = request.param("query") or ""
        if not query or len(query) > 512:
            return invalid_request(
                "The `query` query parameter value must be between 1 and 512 characters",
                {"query": [query]},
            )
        try:
            matcher = _parse_query(query, self)
        except ValueError as exc:
            return invalid_request(f"There were errors processing your request: {exc}")
        cutoff = datetime.now(UTC) - timedelta(days=7)
        with self.lock:
            posts = [
                t
                for t in self.tweets.values()
                if datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) >= cutoff
                and matcher(t)
            ]
        return self._list(request, posts, "next_token", minimum=10, path=f"search:{query}")

    def _list(
        self,
        request: RecordedRequest,
        posts: list[dict[str, Any]],
        token_param: str,
        *,
        minimum: int,
        path: str,
    ) -> Reply:
        tweet_fields = self._fields(request, "tweet.fields", TWEET_FIELDS)
        user_fields = self._fields(request, "user.fields", USER_FIELDS)
        media_fields = self._fields(request, "media.fields", MEDIA_FIELDS)
        poll_fields = self._fields(request, "poll.fields", POLL_FIELDS)
        expansions = self._fields(request, "expansions", EXPANSIONS)
        for checked in (tweet_fields, user_fields, media_fields, poll_fields, expansions):
            if isinstance(checked, Reply):
                return checked
        assert isinstance(poll_fields, set)
        assert isinstance(tweet_fields, set) and isinstance(user_fields, set)
        assert isinstance(media_fields, set) and isinstance(expansions, set)
        raw_max = request.param("max_results") or "10"
        if not raw_max.isdigit() or not minimum <= int(raw_max) <= 100:
            return invalid_request(
                f"The `max_results` query parameter value [{raw_max}] is not between "
                f"{minimum} and 100",
                {"max_results": [raw_max]},
            )
        limit = int(raw_max)
        since_id = request.param("since_id")
        start_time = request.param("start_time")
        posts = sorted(posts, key=lambda t: int(t["id"]), reverse=True)
        if since_id:
            posts = [t for t in posts if int(t["id"]) > int(since_id)]
        if start_time:
            start = datetime.fromisoformat(start_time.replace("Z", "+00:00"))
            posts = [
                t
                for t in posts
                if datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) >= start
            ]
        token = request.param(token_param)
        if token:
            with self.lock:
                known = self._tokens.get(token)
            if known is None or known[0] != path:
                return invalid_request(
                    f"The `{token_param}` query parameter value [{token}] is not valid",
                    {token_param: [token]},
                )
            posts = [t for t in posts if int(t["id"]) < int(known[1])]
        page, rest = posts[:limit], posts[limit:]
        if not page:
            return Reply(200, {"meta": {"result_count": 0}})
        meta: dict[str, Any] = {
            "newest_id": page[0]["id"],
            "oldest_id": page[-1]["id"],
            "result_count": len(page),
        }
        if rest:
            next_token = base64.b32encode(f"{path}|{page[-1]['id']}".encode()).decode().lower()
            next_token = next_token.rstrip("=")[-24:] + str(len(self._tokens))
            with self.lock:
                self._tokens[next_token] = (path, page[-1]["id"])
            meta["next_token"] = next_token
        data = [self._tweet(t, tweet_fields) for t in page]
        body: dict[str, Any] = {"data": data, "meta": meta}
        includes: dict[str, Any] = {}
        if "author_id" in expansions:
            authors = list(dict.fromkeys(t["author_id"] for t in page))
            includes["users"] = [self._user(self.users[a], user_fields) for a in authors]
        if "attachments.media_keys" in expansions:
            keys = [k for t in page for k in t.get("attachments", {}).get("media_keys", [])]
            if keys:
                includes["media"] = [
                    {
                        k: v
                        for k, v in self.media[key].items()
                        if k in media_fields | {"media_key", "type"}
                    }
                    for key in keys
                ]
        if "attachments.poll_ids" in expansions:
            poll_ids = [p for t in page for p in t.get("attachments", {}).get("poll_ids", [])]
            if poll_ids:
                # X always sends a poll's id; its other fields only when asked for.
                includes["polls"] = [
                    {k: v for k, v in self.polls[p].items() if k in poll_fields | {"id"}}
                    for p in poll_ids
                ]
        if includes:
            body["includes"] = includes
        if self.partial:
            body["errors"] = [
                {
                    "value": "1",
                    "detail": "Could not find tweet with referenced_tweets.id: [1].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "referenced_tweets.id",
                    "resource_id": "1",
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                }
            ]
        return Reply(200, body)

    @staticmethod
    def _tweet(tweet: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        always = {"id", "text", "edit_history_tweet_ids"}
        return {key: value for key, value in tweet.items() if key in always or key in fields}

    # --- actions ---------------------------------------------------------------------------

    def _create(self, request: RecordedRequest) -> Reply:
        body = request.body
        if request.header("Content-Type") != "application/json" or not isinstance(body, dict):
            return invalid_request("The request body must be a JSON object")
        if set(body) - {"text", "reply", "media"}:
            unexpected = sorted(set(body) - {"text", "reply", "media"})
            return invalid_request(f"Unexpected fields: {unexpected}")
        uploads = self._attached(body.get("media")) if "media" in body else []
        if isinstance(uploads, Reply):
            return uploads
        # A post of images alone has no text.
        text = body.get("text", "" if uploads else None)
        if not isinstance(text, str) or len(text) > 280 or not (text or uploads):
            return invalid_request("$.text: text must be between 1 and 280 characters")
        if text and any(
            t["author_id"] == self.me["id"] and t["_sent"] == text for t in self.tweets.values()
        ):
            return forbidden(DUPLICATE_CONTENT)
        parent = None
        if "reply" in body:
            reply = body["reply"]
            if not isinstance(reply, dict) or set(reply) != {"in_reply_to_tweet_id"}:
                return invalid_request("$.reply: only in_reply_to_tweet_id is expected")
            parent = reply["in_reply_to_tweet_id"]
            if not isinstance(parent, str) or not parent.isdigit():
                return invalid_request("$.reply.in_reply_to_tweet_id: string expected")
            if parent not in self.tweets:
                return forbidden(
                    "You attempted to reply to a Tweet that is deleted or not visible to you."
                )
        tweet = self.add_tweet(text, in_reply_to=parent)
        if uploads:
            with self.lock:
                for upload in uploads:
                    self.media[upload["media_key"]] = {
                        "media_key": upload["media_key"],
                        "type": "photo",
                        "url": f"https://pbs.twimg.com/media/{upload['media_key']}.jpg",
                        "alt_text": upload["alt_text"] or "",
                    }
                tweet["attachments"] = {"media_keys": [u["media_key"] for u in uploads]}
        return Reply(
            201,
            {
                "data": {
                    "id": tweet["id"],
                    "text": tweet["text"],
                    "edit_history_tweet_ids": [tweet["id"]],
                }
            },
        )

    def _attached(self, media: Any) -> list[dict[str, Any]] | Reply:
        """The uploads a post's ``media`` names (``{"media_ids": [...]}``, 1 to 4 images)."""
        if not isinstance(media, dict) or set(media) != {"media_ids"}:
            return invalid_request("$.media: only media_ids is expected")
        ids = media["media_ids"]
        if not isinstance(ids, list) or not 1 <= len(ids) <= 4:
            return invalid_request("$.media.media_ids: between 1 and 4 media ids are expected")
        unknown = [i for i in ids if not isinstance(i, str) or i not in self.uploads]
        if unknown:
            return invalid_request(
                f"Your media IDs are invalid: {unknown[0]}", {"media.media_ids": [str(unknown[0])]}
            )
        return [self.uploads[i] for i in ids]

    def _lookup(self, request: RecordedRequest, post_id: str) -> Reply:
        unknown = set(request.query) - {"tweet.fields", "expansions", "user.fields"}
        if unknown:
            return invalid_request(f"The query parameter [{sorted(unknown)[0]}] is not one of ...")
        fields = self._fields(request, "tweet.fields", TWEET_FIELDS)
        if isinstance(fields, Reply):
            return fields
        tweet = self.tweets.get(post_id)
        if tweet is None:
            # A single lookup answers 200 with the error, as X does.
            return Reply(200, {"errors": _not_found(post_id).payload["errors"]})
        return Reply(200, {"data": self._tweet(tweet, fields)})

    def _upload(self, request: RecordedRequest) -> Reply:
        if "media.write" not in self.scopes:
            return forbidden("Forbidden")
        body = request.body
        content_type = request.header("Content-Type") or ""
        if not content_type.startswith("multipart/form-data") or not isinstance(body, dict):
            return invalid_request("The request body must be multipart/form-data")
        content = body.get("media")
        category = body.get("media_category")
        if not isinstance(content, bytes) or not content:
            return invalid_request("The `media` field is required", {"media": [""]})
        if category not in MEDIA_CATEGORIES:
            return invalid_request(
                f"The `media_category` value [{category}] is not one of {sorted(MEDIA_CATEGORIES)}"
            )
        kind = next((t for sig, t in IMAGE_SIGNATURES.items() if content.startswith(sig)), None)
        if kind is None or category != "tweet_image":
            return invalid_request("media type unrecognized.", {"media": ["<binary>"]})
        with self.lock:
            media_id = self._snowflake(datetime.now(UTC))
            upload = {
                "id": media_id,
                "media_key": f"3_{media_id}",
                "content": content,
                "type": kind,
                "category": category,
                "alt_text": None,
            }
            self.uploads[media_id] = upload
        return Reply(
            200,
            {
                "data": {
                    "id": media_id,
                    "media_key": upload["media_key"],
                    "size": len(content),
                    "expires_after_secs": 86400,
                    "image": {"image_type": kind, "w": 800, "h": 600},
                }
            },
        )

    def _metadata(self, request: RecordedRequest) -> Reply:
        if "media.write" not in self.scopes:
            return forbidden("Forbidden")
        body = request.body
        if request.header("Content-Type") != "application/json" or not isinstance(body, dict):
            return invalid_request("The request body must be a JSON object")
        metadata = body.get("metadata")
        if set(body) != {"id", "metadata"} or not isinstance(metadata, dict):
            return invalid_request("$: id and metadata are required")
        upload = self.uploads.get(body["id"]) if isinstance(body["id"], str) else None
        if upload is None:
            return invalid_request(f"Your media ID is invalid: {body['id']}", {"id": [body["id"]]})
        alt = metadata.get("alt_text")
        text = alt.get("text") if isinstance(alt, dict) else None
        if set(metadata) != {"alt_text"} or not isinstance(text, str) or len(text) > 1000:
            return invalid_request("$.metadata.alt_text.text: text must be at most 1000 characters")
        with self.lock:
            upload["alt_text"] = text
        return Reply(
            200, {"data": {"id": upload["id"], "associated_metadata": {"alt_text": {"text": text}}}}
        )

    def _hide(self, request: RecordedRequest, post_id: str) -> Reply:
        body = request.body
        if (
            not isinstance(body, dict)
            or set(body) != {"hidden"}
            or not isinstance(body["hidden"], bool)
        ):
            return invalid_request('$.hidden: a boolean "hidden" is required')
        tweet = self.tweets.get(post_id)
        if tweet is None:
            return _not_found(post_id)
        root = self.tweets.get(tweet["conversation_id"])
        if root is None or root["author_id"] != self.me["id"] or root is tweet:
            return forbidden("You cannot hide or unhide this Tweet.")
        with self.lock:
            (self.hidden.add if body["hidden"] else self.hidden.discard)(post_id)
        return Reply(200, {"data": {"hidden": body["hidden"]}})

    def _delete(self, request: RecordedRequest, post_id: str) -> Reply:
        if request.raw_body:
            return invalid_request("A DELETE request has no body")
        tweet = self.tweets.get(post_id)
        if tweet is None:
            return _not_found(post_id)
        if tweet["author_id"] != self.me["id"]:
            return forbidden("You are not authorized to delete this Tweet.")
        with self.lock:
            del self.tweets[post_id]
        return Reply(200, {"data": {"deleted": True}})

    def _direct_message(self, request: RecordedRequest, participant_id: str) -> Reply:
        if not {"dm.write", "dm.read"} <= self.scopes:
            return forbidden("Forbidden")
        body = request.body
        if request.header("Content-Type") != "application/json" or not isinstance(body, dict):
            return invalid_request("The request body must be a JSON object")
        if set(body) - {"text", "attachments"}:
            return invalid_request(f"Unexpected fields: {sorted(set(body) - {'text'})}")
        text = body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > 10000:
            return invalid_request("$.text: text must be between 1 and 10000 characters")
        if participant_id not in self.users:
            return invalid_request(
                f"The `participant_id` path parameter value [{participant_id}] is not a user",
                {"participant_id": [participant_id]},
            )
        if participant_id == self.me["id"]:
            return invalid_request("You cannot send a Direct Message to yourself")
        if participant_id in self.closed_dms:
            return forbidden(DM_NOT_ACCEPTED)
        first, second = sorted((self.me["id"], participant_id), key=lambda i: (len(i), i))
        with self.lock:
            event = {
                "id": self._snowflake(datetime.now(UTC)),
                "dm_conversation_id": f"{first}-{second}",
                "sender_id": self.me["id"],
                "participant_id": participant_id,
                "text": text,
            }
            self.dm_events.append(event)
        return Reply(
            201,
            {
                "data": {
                    "dm_conversation_id": event["dm_conversation_id"],
                    "dm_event_id": event["id"],
                }
            },
        )


def _retweeted(tweet: dict[str, Any]) -> bool:
    return any(r["type"] == "retweeted" for r in tweet.get("referenced_tweets", []))


def _not_found(post_id: str) -> Reply:
    return Reply(
        404,
        {
            "errors": [
                {
                    "value": post_id,
                    "detail": f"Could not find tweet with id: [{post_id}].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "id",
                    "resource_id": post_id,
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                }
            ],
            "title": "Not Found Error",
            "detail": f"Could not find tweet with id: [{post_id}].",
            "type": "https://api.twitter.com/2/problems/resource-not-found",
        },
        content_type=PROBLEM,
    )


def _parse_query(query: str, fake: FakeX) -> Any:
    """A matcher for the subset of X's query language the fake understands."""
    tokens = _QUERY_TOKEN.findall(query)
    clauses: list[Any] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "(":
            group = []
            index += 1
            while index < len(tokens) and tokens[index] != ")":
                if tokens[index] != "OR":
                    group.append(_term(tokens[index], fake))
                index += 1
            if index >= len(tokens):
                raise ValueError("unbalanced parentheses")
            clauses.append(lambda t, group=group: any(term(t) for term in group))
        elif token == "OR":
            raise ValueError("OR is only understood inside parentheses by this fake")
        else:
            clauses.append(_term(token, fake))
        index += 1
    return lambda tweet: all(clause(tweet) for clause in clauses)


def _term(token: str, fake: FakeX) -> Any:
    negate = token.startswith("-")
    token = token[1:] if negate else token
    operator, _, value = token.partition(":")
    if token.startswith('"'):
        phrase = token.strip('"').lower()

        def match(t: dict[str, Any]) -> bool:
            return phrase in t["text"].lower()

    elif value and operator == "from":

        def match(t: dict[str, Any]) -> bool:
            return fake.users[t["author_id"]]["username"].lower() == value.lower()

    elif value and operator == "to":

        def match(t: dict[str, Any]) -> bool:
            parent = t.get("in_reply_to_user_id")
            return parent is not None and fake.users[parent]["username"].lower() == value.lower()

    elif value and operator == "conversation_id":

        def match(t: dict[str, Any]) -> bool:
            return bool(t["conversation_id"] == value)

    elif value and operator == "lang":

        def match(t: dict[str, Any]) -> bool:
            return bool(t.get("lang") == value)

    elif value and operator == "is" and value == "retweet":

        def match(t: dict[str, Any]) -> bool:
            return _retweeted(t)

    elif value:
        raise ValueError(f"unknown operator {operator}:")
    else:
        word = token.lower()

        def match(t: dict[str, Any]) -> bool:
            return word in t["text"].lower()

    return (lambda t: not match(t)) if negate else match
