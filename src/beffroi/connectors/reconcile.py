"""Finding a publication whose answer was lost among the account's own posts.

A platform without an idempotency key (X, Facebook, Instagram, YouTube) gives no way to ask
"did my interrupted call publish?". What it does give is the account's own posts: the
publication is there when a post created since the call began carries the same text.

Platforms rewrite what they are sent, so texts are compared after the rewrites known to
happen: links are left out (X turns every link into a ``t.co`` address, the desk adds
campaign parameters), HTML entities read (X sends ``&amp;``), Unicode composed the same way
(NFC), whitespace runs made one space. A text that is nothing but links cannot be told
apart from another this way: :func:`can_tell` says so, and a person checks.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta

from beffroi.connectors.base import OwnPost

#: Platforms' clocks and ours differ a little: posts are looked for from this long before
#: the call began.
CLOCK_MARGIN = timedelta(minutes=2)

_LINK = re.compile(r"\bhttps?://\S+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def comparable(text: str) -> str:
    """``text`` as compared: entities read, NFC, links left out, whitespace collapsed."""
    text = unicodedata.normalize("NFC", html.unescape(text))
    return _SPACES.sub(" ", _LINK.sub(" ", text)).strip()


def can_tell(sent: str) -> bool:
    """Whether a post with this text can be recognised among others (it has words besides
    its links)."""
    return bool(comparable(sent))


def find_published(sent: str, posts: Iterable[OwnPost], since: datetime) -> OwnPost | None:
    """The oldest of ``posts`` created since ``since`` (less :data:`CLOCK_MARGIN`) with the
    text ``sent``; None when there is none or when ``sent`` cannot be told apart."""
    wanted = comparable(sent)
    if not wanted:
        return None
    floor = since - CLOCK_MARGIN
    same = [post for post in posts if post.created_at >= floor and comparable(post.text) == wanted]
    return min(same, key=lambda post: post.created_at) if same else None
