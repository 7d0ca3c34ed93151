"""A stand-in for Telethon's ``TelegramClient``, as the Telegram connector uses it, over
Telethon's own message types: a channel's posts, the comments of its discussion group, and
what the account sends there, answered as Telegram does (errors too).

Telegram's model, which the stand-in keeps: a channel with comments has a *discussion group*
(a supergroup, ``discussions``: channel → group id) holding a copy of each post (here message
``500 + post id`` of the group). A comment is a message of the group replying to that copy
(``reply_to_msg_id`` = the copy); a reply to a comment also names the thread
(``reply_to_msg_id`` = the comment, ``reply_to_top_id`` = the copy). The post's ``replies``
(``MessageReplies``) counts the thread's messages, with the group (``channel_id``) and the
newest one (``max_id``). ``messages.getReplies`` (``iter_messages(channel, reply_to=post)``)
and ``messages.getDiscussionMessage`` answer ``MSG_ID_INVALID`` for a post without a thread.

The account publishes in a channel as its administrator: ``send_message(channel, text,
parse_mode=None)`` posts a text, ``send_file(channel, file, caption=text, parse_mode=None)`` a
photo (a named stream), or an album (a list: one message per file sharing a ``grouped_id``,
the caption on the first). Telegram finds the links of a text itself (``MessageEntityUrl``).
``iter_messages(channel, ids=[...])`` answers each id's message, or None.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from telethon import errors
from telethon.tl import types
from telethon.tl.functions.messages import GetDiscussionMessageRequest

NOW = datetime(2024, 6, 1, 9, 30, tzinfo=UTC)
#: Every channel of the stand-in has this id (``get_entity`` answers the same one).
CHANNEL_ID = 1001
#: The account the session logs in (``get_me``).
ME = types.User(id=4242, username="mairie_accueil", first_name="Accueil", last_name="Mairie")


def telethon_message(number: int, text: str = "Bonjour", **fields: Any) -> types.Message:
    """A channel post, as Telethon gives it."""
    fields.setdefault("date", NOW + timedelta(minutes=number))
    return types.Message(
        id=number,
        peer_id=types.PeerChannel(channel_id=CHANNEL_ID),
        message=text,
        post=True,
        **fields,
    )


def person(user_id: int, first_name: str, username: str | None = None) -> types.User:
    return types.User(id=user_id, first_name=first_name, username=username, phone="33600000000")


def _peer(sender: types.User | types.Channel) -> types.PeerUser | types.PeerChannel:
    if isinstance(sender, types.User):
        return types.PeerUser(user_id=sender.id)
    return types.PeerChannel(channel_id=sender.id)


class StandInClient:
    """Telethon's ``TelegramClient`` as the connector uses it, over real message objects.

    ``send_message(channel, text, comment_to=post)`` comments under the post; ``send_message(
    group, text, reply_to=comment)`` answers a comment in the discussion group (the group as
    ``messages.getDiscussionMessage`` gives it). A channel without a group, or a post that is
    not there, raises ``MsgIdInvalidError``. ``comment()`` adds a person's comment."""

    def __init__(
        self,
        messages: dict[str, list[Any]],
        authorized: bool = True,
        discussions: dict[str, int] | None = None,
    ) -> None:
        self.messages = messages
        self.authorized = authorized
        self.discussions = discussions or {}
        #: The keyword arguments of each ``iter_messages`` call.
        self.calls: list[dict[str, Any]] = []
        #: Raised by every ``iter_messages`` (``fail``), by those reading comments only
        #: (``fail_comments``), or by ``send_message`` (``fail_send``).
        self.fail: Exception | None = None
        self.fail_comments: Exception | None = None
        self.fail_send: Exception | None = None
        #: The discussion threads: (channel, post id) → the group's messages answering it.
        self.threads: dict[tuple[str, int], list[types.Message]] = {}
        #: What the account sent: ``(the platform id it answers, the Message)``; a comment
        #: under a post answers ``<channel>/<post>``, an answer to a comment
        #: ``<channel>/<post>?comment=<id>``.
        self.sent: list[tuple[str, types.Message]] = []
        #: What the account published: ``(channel, Message)``, one per message of an album;
        #: the keyword arguments of each send, besides the caption; the files of each message
        #: (``[(name, bytes)]``); and how many sends were tried (failed ones too).
        self.published: list[tuple[str, types.Message]] = []
        self.published_kwargs: list[dict[str, Any]] = []
        self.files: dict[int, list[tuple[str, bytes]]] = {}
        self.send_attempts = 0
        self.disconnected = False
        self._next_id = 1000

    # --- what a test sets up ---------------------------------------------------------------

    def group(self, channel: str) -> types.Channel:
        group_id = self.discussions[channel]
        return types.Channel(
            id=group_id,
            title=f"Discussion of {channel}",
            photo=types.ChatPhotoEmpty(),
            date=NOW,
            megagroup=True,
            access_hash=99,
        )

    def _post(self, channel: str, post_id: int) -> types.Message:
        if channel not in self.discussions:
            raise errors.MsgIdInvalidError(request=None)
        for message in self.messages[channel]:
            if message.id == post_id and isinstance(message, types.Message):
                return message
        raise errors.MsgIdInvalidError(request=None)

    def comment(
        self,
        channel: str,
        post_id: int,
        text: str,
        sender: types.User | types.Channel,
        *,
        answers: int | None = None,
        date: datetime | None = None,
        out: bool = False,
    ) -> types.Message:
        """A message of the discussion group under ``post_id``: a comment, or an answer to
        the comment ``answers``; the post's ``replies`` follow."""
        post = self._post(channel, post_id)
        top = 500 + post_id
        thread = self.threads.setdefault((channel, post_id), [])
        if answers is not None and answers not in {m.id for m in thread}:
            raise errors.MsgIdInvalidError(request=None)
        self._next_id += 1
        header = (
            types.MessageReplyHeader(reply_to_msg_id=top)
            if answers is None
            else types.MessageReplyHeader(reply_to_msg_id=answers, reply_to_top_id=top)
        )
        message = types.Message(
            id=self._next_id,
            peer_id=types.PeerChannel(channel_id=self.discussions[channel]),
            from_id=_peer(sender),
            date=date or datetime.now(UTC),
            message=text,
            out=out,
            reply_to=header,
        )
        message._sender = sender  # Telethon fills it from the answer's users and chats
        thread.append(message)
        post.replies = types.MessageReplies(
            replies=len(thread),
            replies_pts=len(thread),
            comments=True,
            channel_id=self.discussions[channel],
            max_id=message.id,
        )
        return message

    # --- TelegramClient --------------------------------------------------------------------

    async def connect(self) -> None:
        return None

    async def is_user_authorized(self) -> bool:
        return self.authorized

    async def get_me(self) -> types.User:
        return ME

    async def get_entity(self, entity: str) -> Any:
        if entity not in self.messages:
            raise ValueError(f'No user has "{entity}" as username')
        return types.Channel(
            id=CHANNEL_ID, title=f"Title of {entity}", photo=types.ChatPhotoEmpty(), date=NOW
        )

    async def __call__(self, request: Any) -> Any:
        assert isinstance(request, GetDiscussionMessageRequest), request
        channel = request.peer.title.removeprefix("Title of ")
        post = self._post(channel, request.msg_id)
        group = self.group(channel)
        copy = types.Message(
            id=500 + post.id,
            peer_id=types.PeerChannel(channel_id=group.id),
            date=post.date,
            message=post.message,
            replies=post.replies,
        )
        return types.messages.DiscussionMessage(
            messages=[copy], unread_count=0, chats=[group], users=[], max_id=copy.id
        )

    async def iter_messages(self, entity: Any, **kwargs: Any) -> AsyncIterator[Any]:
        self.calls.append(kwargs)
        if self.fail is not None:
            raise self.fail
        name = entity.title.removeprefix("Title of ")
        if "ids" in kwargs:
            by_id = {m.id: m for m in self.messages[name]}
            for wanted in kwargs["ids"]:
                yield by_id.get(wanted)
            return
        if "reply_to" in kwargs:
            if self.fail_comments is not None:
                raise self.fail_comments
            self._post(name, kwargs["reply_to"])  # MSG_ID_INVALID without a thread
            found = list(self.threads.get((name, kwargs["reply_to"]), []))
        else:
            found = list(self.messages[name])
        found = [m for m in found if m.id > kwargs.get("min_id", 0)]
        if "offset_date" in kwargs:
            found = [m for m in found if m.date > kwargs["offset_date"]]
        if not kwargs.get("reverse"):
            found.reverse()  # newest first, as Telegram lists them
        for message in found[: kwargs["limit"]]:
            yield message

    def _post_in(
        self, entity: Any, text: str, *, media: Any = None, grouped_id: int | None = None
    ) -> types.Message:
        """A post the account publishes in the channel ``entity``."""
        name = entity.title.removeprefix("Title of ")
        posts = self.messages[name]
        message = telethon_message(
            max((m.id for m in posts), default=0) + 1,
            text,
            date=datetime.now(UTC),
            out=True,
            media=media,
            grouped_id=grouped_id,
            entities=[
                types.MessageEntityUrl(
                    offset=_utf16_len(text[: m.start()]), length=_utf16_len(m[0])
                )
                for m in re.finditer(r"https?://\S+", text)
            ]
            or None,
        )
        posts.append(message)
        self.published.append((name, message))
        return message

    async def send_file(
        self, entity: Any, file: Any, *, caption: str = "", **kwargs: Any
    ) -> types.Message | list[types.Message]:
        self.send_attempts += 1
        if self.fail_send is not None:
            raise self.fail_send
        assert kwargs == {"parse_mode": None}, kwargs
        self.published_kwargs.append(kwargs)
        streams = file if isinstance(file, list) else [file]
        grouped_id = self._next_id if isinstance(file, list) else None
        sent = []
        for position, stream in enumerate(streams):
            self._next_id += 1
            photo = types.Photo(
                id=self._next_id,
                access_hash=1,
                file_reference=b"",
                date=NOW,
                sizes=[],
                dc_id=4,
            )
            message = self._post_in(
                entity,
                caption if position == 0 else "",
                media=types.MessageMediaPhoto(photo=photo),
                grouped_id=grouped_id,
            )
            self.files[message.id] = [(stream.name, stream.getvalue())]
            sent.append(message)
        return sent if isinstance(file, list) else sent[0]

    async def send_message(self, entity: Any, message: str, **kwargs: Any) -> types.Message:
        self.send_attempts += 1
        if self.fail_send is not None:
            raise self.fail_send
        if kwargs == {"parse_mode": None}:
            self.published_kwargs.append(kwargs)
            return self._post_in(entity, message)
        if set(kwargs) == {"comment_to"}:
            name = entity.title.removeprefix("Title of ")
            post = kwargs["comment_to"]
            sent = self.comment(name, post, message, ME, out=True)
            self.sent.append((f"{name}/{post}", sent))
            return sent
        assert set(kwargs) == {"reply_to"}, kwargs
        # An answer in a discussion group: the group must be one, the comment in it.
        [name] = [n for n, group in self.discussions.items() if group == entity.id]
        assert entity.megagroup and entity.access_hash, "a group as getDiscussionMessage gives"
        for (channel, post), thread in self.threads.items():
            if channel == name and kwargs["reply_to"] in {m.id for m in thread}:
                sent = self.comment(name, post, message, ME, answers=kwargs["reply_to"], out=True)
                self.sent.append((f"{name}/{post}?comment={kwargs['reply_to']}", sent))
                return sent
        raise errors.MsgIdInvalidError(request=None)

    async def disconnect(self) -> None:
        self.disconnected = True


def _utf16_len(text: str) -> int:
    """Telegram's entity offsets and lengths count UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
