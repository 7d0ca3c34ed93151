"""A fake ``t.me``: the public web preview of channels (``/s/<channel>``), as Telegram serves it.

The page is the one t.me serves to a browser: a ``section.tgme_channel_history`` with the
channel's latest posts oldest first (``page_size``, ~20 on t.me), each a
``div.tgme_widget_message_wrap > div.tgme_widget_message[data-post="<channel>/<id>"]`` with its
bubble (owner name, forwarded-from header, reply header, photos, text with ``<br/>`` and links,
footer with views and ``a.tgme_widget_message_date > time[datetime]``). ``?before=<id>`` lists
the posts older than ``id``, ``?after=<id>`` the posts newer; a "more" link points at the
older page. An unknown or private channel is redirected (302) to ``/<channel>``, whose page is
t.me's contact page (``div.tgme_page``) without history.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply

HTML = "text/html; charset=utf-8"


@dataclass
class FakePost:
    """A channel post; ``text_html`` is the inner HTML of its text div, as t.me writes it."""

    id: int
    text_html: str
    date: datetime
    views: str = "1.2K"
    photos: list[str] = field(default_factory=list)
    forwarded_from: tuple[str, str] | None = None  # (name, url)
    reply_to: int | None = None
    signature: str = ""


@dataclass
class FakeChannel:
    username: str
    title: str
    posts: list[FakePost] = field(default_factory=list)


def render_post(channel: FakeChannel, post: FakePost) -> str:
    """One post, in t.me's markup."""
    name = channel.username
    forwarded = ""
    if post.forwarded_from:
        source_name, source_url = post.forwarded_from
        forwarded = (
            '<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from&nbsp;'
            f'<a class="tgme_widget_message_forwarded_from_name" href="{source_url}">'
            f'<span dir="auto">{html.escape(source_name)}</span></a></div>'
        )
    reply = ""
    if post.reply_to is not None:
        reply = (
            f'<a class="tgme_widget_message_reply user-color-default" href="https://t.me/{name}/'
            f'{post.reply_to}"><div class="tgme_widget_message_author accent_color">'
            f'<span class="tgme_widget_message_author_name" dir="auto">{html.escape(channel.title)}'
            '</span></div><div class="tgme_widget_message_text js-message_reply_text" dir="auto">'
            "The quoted post</div></a>"
        )
    photos = "".join(
        f'<a class="tgme_widget_message_photo_wrap 5420364578 blured" href="https://t.me/{name}/'
        f'{post.id}" style="width:800px;background-image:url(\'{url}\')">'
        '<div class="tgme_widget_message_photo" style="padding-top:56.25%"></div></a>'
        for url in post.photos
    )
    text = (
        f'<div class="tgme_widget_message_text js-message_text" dir="auto">{post.text_html}</div>'
        if post.text_html
        else ""
    )
    signature = (
        f'<span class="tgme_widget_message_from_author" dir="auto">{html.escape(post.signature)}'
        "</span>,&nbsp;"
        if post.signature
        else ""
    )
    stamp = post.date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return (
        '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
        f'<div class="tgme_widget_message text_not_supported_wrap js-widget_message" '
        f'data-post="{name}/{post.id}" data-view="eyJjIjotMTAwMCwicCI6MX0">'
        '<div class="tgme_widget_message_user"><a href="https://t.me/'
        f'{name}"><i class="tgme_widget_message_user_photo bgcolor0" data-content="B">'
        "</i></a></div>"
        '<div class="tgme_widget_message_bubble"><i class="tgme_widget_message_bubble_tail">'
        '<svg class="bubble_icon" width="9px" height="20px" viewBox="0 0 9 20"><path d="M8,1"/>'
        "</svg></i>"
        '<div class="tgme_widget_message_author accent_color">'
        f'<a class="tgme_widget_message_owner_name" href="https://t.me/{name}">'
        f'<span dir="auto">{html.escape(channel.title)}</span></a></div>'
        f"{forwarded}{reply}{photos}{text}"
        '<div class="tgme_widget_message_footer compact js-message_footer">'
        '<div class="tgme_widget_message_info short js-message_info">'
        f'<span class="tgme_widget_message_views">{post.views}</span>'
        '<span class="copyonly"> views</span>'
        f'<span class="tgme_widget_message_meta">{signature}'
        f'<a class="tgme_widget_message_date" href="https://t.me/{name}/{post.id}">'
        f'<time datetime="{stamp}" class="time">{post.date:%H:%M}</time></a></span>'
        "</div></div></div></div></div>"
    )


def render_page(channel: FakeChannel, posts: list[FakePost], older: bool) -> str:
    """A preview page holding ``posts`` (oldest first)."""
    more = ""
    if older and posts:
        first = posts[0].id
        more = (
            '<div class="tgme_widget_message_centered js-messages_more_wrap">'
            f'<a href="/s/{channel.username}?before={first}" class="tme_messages_more '
            f'js-messages_more" data-before="{first}"></a></div>'
        )
    body = "\n".join(render_post(channel, post) for post in posts)
    title = html.escape(channel.title)
    return (
        '<!DOCTYPE html>\n<html>\n  <head>\n    <meta charset="utf-8">\n'
        f"    <title>{title} – Telegram</title>\n"
        f'    <meta property="og:title" content="{title}">\n  </head>\n'
        '  <body class="widget_frame_base tgme_webpage">\n'
        '    <header class="tgme_header search_collapsed"><div class="tgme_header_info">'
        f'<div class="tgme_header_title"><span dir="auto">{title}</span></div></div></header>\n'
        '    <main class="tgme_main"><div class="tgme_container">\n'
        '      <section class="tgme_channel_history js-message_history">\n'
        f"{more}\n{body}\n"
        "      </section>\n    </div></main>\n  </body>\n</html>\n"
    )


def render_contact_page(username: str) -> str:
    """t.me/<username> for a user, a bot, a group or a channel without preview."""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Telegram: Contact '
        f'@{username}</title></head><body class="no_transition">'
        '<div class="tgme_page_wrap"><div class="tgme_body_wrap"><div class="tgme_page">'
        f'<div class="tgme_page_title"><span dir="auto">{username}</span></div>'
        '<div class="tgme_page_action"><a class="tgme_action_button_new" '
        f'href="tg://resolve?domain={username}">Send Message</a></div>'
        "</div></div></div></body></html>"
    )


class FakeTelegramWeb(LoopbackServer):
    """``GET /s/<channel>[?before=|?after=]`` and ``GET /<channel>``."""

    unavailable_body = "<html><body>502 Bad Gateway</body></html>"

    def __init__(self, page_size: int = 20) -> None:
        super().__init__()
        self.page_size = page_size
        self.channels: dict[str, FakeChannel] = {}
        self._clock = datetime.now(UTC) - timedelta(hours=6)

    def add_channel(self, username: str, title: str) -> FakeChannel:
        channel = FakeChannel(username, title)
        with self.lock:
            self.channels[username.lower()] = channel
        return channel

    def post(self, username: str, text_html: str, **fields: object) -> FakePost:
        """Publish a post in ``username`` (ids and dates increase); return it."""
        with self.lock:
            channel = self.channels[username.lower()]
            number = (channel.posts[-1].id if channel.posts else 0) + 1
            self._clock += timedelta(minutes=1)
            fields.setdefault("date", self._clock)
            created = FakePost(number, text_html, **fields)  # type: ignore[arg-type]
            channel.posts.append(created)
            return created

    def handle(self, request: RecordedRequest) -> Reply:
        if request.method != "GET":
            return Reply(405, raw=b"Method Not Allowed", content_type=HTML)
        parts = request.path.strip("/").split("/")
        if len(parts) == 1 and parts[0]:
            return Reply(200, raw=render_contact_page(parts[0]).encode(), content_type=HTML)
        if len(parts) != 2 or parts[0] != "s":
            return Reply(404, raw=b"<html><body>Not found</body></html>", content_type=HTML)
        channel = self.channels.get(parts[1].lower())
        if channel is None:
            return Reply(302, raw=b"", headers={"Location": f"/{parts[1]}"}, content_type=HTML)
        before, after = request.param("before"), request.param("after")
        posts = channel.posts
        if before is not None:
            posts = [p for p in posts if p.id < int(before)][-self.page_size :]
        elif after is not None:
            posts = [p for p in posts if p.id > int(after)][: self.page_size]
        else:
            posts = posts[-self.page_size :]
        older = bool(posts) and posts[0].id > channel.posts[0].id
        page = render_page(channel, posts, older)
        return Reply(200, raw=page.encode(), content_type=HTML)
