"""X (API v2): pages recorded by twarc (tests/corpus/x/), each post through
:meth:`XConnector._page_items` as a sync maps a page, and the field checks of issue 13, item 2.

Each line of a recorded file is one answer of X (``data``, ``includes``, ``errors``); each post
of it is mapped alone, with the whole page's ``includes``, so that one post that raises does
not hide the others. The checks read the payload on their own (not through the connector's
helpers), so that they can fail.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from beffroi.connectors.base import ItemKind
from beffroi.connectors.x import XConnector
from tests.fidelity import common
from tests.fidelity.common import is_x_status_link, mapped, x_language
from tests.fidelity.model import Check, Outcome

PLATFORM = "x"
CORPUS = Path(__file__).resolve().parent.parent.parent / "corpus"

_MEDIA_LINK_HOSTS = ("pic.twitter.com/", "pic.x.com/")


def _connector() -> XConnector:
    # Dummy account and token: _page_items only maps, it sends nothing.
    return XConnector(
        {"user_id": "1000000000000000001", "username": "fidelity"},
        {"access_token": "fidelity-not-a-token"},
    )


def _kind(post: Mapping[str, Any]) -> ItemKind:
    """As a sync's own stage decides: a post that answers another is a reply."""
    return ItemKind.REPLY if _ref(post, "replied_to") else ItemKind.POST


def read(path: Path) -> Iterator[Outcome]:
    """Every post of every recorded answer in ``path`` (JSON lines), mapped alone."""
    relative = str(path.resolve().relative_to(CORPUS))
    connector = _connector()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            page = json.loads(line)
        except ValueError as exc:
            yield Outcome(relative, f"line {number}", {}, error=f"{type(exc).__name__}: {exc}")
            continue
        posts = page.get("data")
        if isinstance(posts, Mapping):  # a filtered-stream message carries one post
            posts = [posts]
        includes = page.get("includes") or {}
        for index, post in enumerate(posts if isinstance(posts, list) else []):
            ref = f"line {number} post {post.get('id', index) if isinstance(post, Mapping) else index}"
            payload = {"data": post, "includes": includes}
            try:
                (item,) = connector._page_items(
                    {"data": [post], "includes": includes}, "reading the corpus", _kind, set()
                )
            except Exception as exc:  # reported per record, so one does not hide the others
                yield Outcome(relative, ref, payload, error=f"{type(exc).__name__}: {exc}")
            else:
                yield Outcome(relative, ref, payload, item=item, context={"line": number})


# --- reading the payload (independently of the connector) -----------------------------------


def _post(outcome: Outcome) -> Mapping[str, Any]:
    data = outcome.payload.get("data")
    return data if isinstance(data, Mapping) else {}


def _includes(outcome: Outcome, name: str) -> list[Mapping[str, Any]]:
    includes = outcome.payload.get("includes")
    found = includes.get(name) if isinstance(includes, Mapping) else None
    return [entry for entry in found or [] if isinstance(entry, Mapping)]


def _ref(post: Mapping[str, Any], kind: str) -> str | None:
    for reference in post.get("referenced_tweets") or []:
        if isinstance(reference, Mapping) and reference.get("type") == kind:
            return str(reference.get("id"))
    return None


def _included_post(outcome: Outcome, post_id: str | None) -> Mapping[str, Any] | None:
    if post_id is None:
        return None
    return next((t for t in _includes(outcome, "tweets") if str(t.get("id")) == post_id), None)


def _user(outcome: Outcome, user_id: Any) -> Mapping[str, Any] | None:
    return next((u for u in _includes(outcome, "users") if u.get("id") == user_id), None)


def _whole_text(post: Mapping[str, Any]) -> str:
    """What a reader reads: a long post's ``note_tweet``, else its ``text``, unescaped."""
    note = post.get("note_tweet")
    if isinstance(note, Mapping) and isinstance(note.get("text"), str) and note["text"]:
        return html.unescape(note["text"])
    text = post.get("text")
    return html.unescape(text) if isinstance(text, str) else ""


def _read_post(outcome: Outcome) -> Mapping[str, Any]:
    """The post whose text and links a reader sees: a retweet's original where included."""
    post = _post(outcome)
    return _included_post(outcome, _ref(post, "retweeted")) or post


def _link_entries(outcome: Outcome) -> list[Mapping[str, Any]]:
    post = _read_post(outcome)
    note = post.get("note_tweet")
    entities: Any = note.get("entities") if isinstance(note, Mapping) else None
    if not isinstance(entities, Mapping):
        entities = post.get("entities")
    urls = entities.get("urls") if isinstance(entities, Mapping) else None
    return [entry for entry in urls or [] if isinstance(entry, Mapping)]


def _is_media_link(entry: Mapping[str, Any]) -> bool:
    return bool(entry.get("media_key")) or str(entry.get("display_url") or "").startswith(
        _MEDIA_LINK_HOSTS
    )


def _is_quoted_post_link(outcome: Outcome, entry: Mapping[str, Any]) -> bool:
    """The quoted post's own address, which X puts in a quote's text (the quote carries it)."""
    return is_x_status_link(entry.get("expanded_url"), _ref(_post(outcome), "quoted"))


def _shared_link_entries(outcome: Outcome) -> list[Mapping[str, Any]]:
    return [
        e
        for e in _link_entries(outcome)
        if not _is_media_link(e) and e.get("expanded_url") and not _is_quoted_post_link(outcome, e)
    ]


def _attached_media(outcome: Outcome) -> list[Mapping[str, Any]]:
    attachments = _post(outcome).get("attachments")
    keys = attachments.get("media_keys") if isinstance(attachments, Mapping) else None
    by_key = {m.get("media_key"): m for m in _includes(outcome, "media")}
    return [by_key[key] for key in keys or [] if key in by_key]


def _mp4s(medium: Mapping[str, Any]) -> list[str]:
    return [
        str(v["url"])
        for v in medium.get("variants") or []
        if isinstance(v, Mapping) and v.get("content_type") == "video/mp4" and v.get("url")
    ]


def _poll_labels(outcome: Outcome) -> list[str]:
    attachments = _post(outcome).get("attachments")
    ids = attachments.get("poll_ids") if isinstance(attachments, Mapping) else None
    return [
        str(option.get("label"))
        for poll in _includes(outcome, "polls")
        if poll.get("id") in (ids or [])
        for option in poll.get("options") or []
        if isinstance(option, Mapping) and option.get("label")
    ]


def _sent_time(post: Mapping[str, Any]) -> datetime | None:
    value = post.get("created_at")
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _carries(outcome: Outcome, relation: str, post_id: str | None) -> bool:
    """The item carries the referenced post: relation, id, and its text and author where the
    page included it."""
    if post_id is None:
        return False
    original = _included_post(outcome, post_id)
    if original is None:
        return common.carries(outcome, relation, platform_id=post_id, url_has=post_id)
    username = (_user(outcome, original.get("author_id")) or {}).get("username")
    return common.carries(
        outcome,
        relation,
        platform_id=post_id,
        url_has=post_id,
        text=_whole_text(original),
        author=username or common.ANY,
    )


def _media_links(outcome: Outcome) -> list[Any]:
    """The addresses of the pic.twitter.com links X adds for the post's own media."""
    return [
        address
        for e in _link_entries(outcome)
        if _is_media_link(e)
        for address in (e.get("expanded_url"), e.get("url"))
    ]


# --- the checks -----------------------------------------------------------------------------

CHECKS: tuple[Check, ...] = (
    common.text_present(
        lambda o: _whole_text(_post(o)).strip(), "The text is not empty where the post has text."
    ),
    Check(
        "retweet_text_whole",
        "A retweet's text is 'RT @user: ' and the original's whole text, not X's cut copy "
        "(its poll's options may follow).",
        passes=lambda o: (
            o.item.text.startswith("RT @")
            and o.item.text.split("\n- ")[0].endswith(_whole_text(_read_post(o)).split("\n- ")[0])
            and _whole_text(_read_post(o)) in o.item.text
        ),
        applies=lambda o: mapped(o) and _read_post(o) is not _post(o),
    ),
    Check(
        "long_post_text_whole",
        "A post longer than 280 characters has its whole note_tweet text.",
        passes=lambda o: o.item.text == _whole_text(_post(o)),
        applies=lambda o: mapped(o) and isinstance(_post(o).get("note_tweet"), Mapping),
    ),
    common.x_no_html_entities("No HTML entity (&amp;, &lt;, &#39;…) is left in the text."),
    common.created_at_is(
        "created_at_is_the_posts",
        "created_at is the post's created_at (not the fetch time).",
        lambda o: _sent_time(_post(o)),
        dated=True,
    ),
    common.author_id_and_handle(
        "The author's id is the post's author_id and the handle its username.",
        author_id=lambda o: str(_post(o).get("author_id")),
        handle=lambda o: (_user(o, _post(o).get("author_id")) or {}).get(
            "username", o.item.author.platform_id
        ),
        applies=lambda o: _post(o).get("author_id"),
    ),
    common.x_post_url(
        "The item's address is https://x.com/<username>/status/<id>.",
        screen_name=lambda o: (_user(o, _post(o).get("author_id")) or {}).get("username"),
        post_id=lambda o: _post(o).get("id"),
        applies=lambda o: _user(o, _post(o).get("author_id")) is not None,
    ),
    common.links_absolute(),
    common.links_not_t_co(
        "Shared links are the expanded addresses, not X's t.co wrappers.",
        lambda o: any(
            common.host(str(e["expanded_url"])) != "t.co" for e in _shared_link_entries(o)
        ),
    ),
    Check(
        "links_kept",
        "Every link the post shares (entities.urls, not its own media) is kept, expanded.",
        passes=lambda o: all(
            e.get("unwound_url") in o.item.urls or e["expanded_url"] in o.item.urls
            for e in _shared_link_entries(o)
        ),
        applies=lambda o: mapped(o) and bool(_shared_link_entries(o)),
    ),
    common.links_not_own_media(
        _media_links,
        "The pic.twitter.com links X adds for the post's own photos and videos are not links.",
    ),
    common.links_not_quoted_post(
        lambda o: [
            address
            for e in _link_entries(o)
            if _is_quoted_post_link(o, e)
            for address in (e.get("expanded_url"), e.get("unwound_url"))
        ],
    ),
    common.media_kept(_attached_media, "Every attached medium found in includes.media is kept."),
    common.photo_is_the_image(
        lambda o: [
            p["url"] for p in _attached_media(o) if p.get("type") == "photo" and p.get("url")
        ],
        "A photo is its image address (url), as an image.",
    ),
    common.video_is_the_file(
        lambda o: [_mp4s(v) for v in _attached_media(o) if _mp4s(v)],
        "A video or GIF is its MP4 file (a variant), not its preview_image_url thumbnail.",
    ),
    common.media_alt_text(
        lambda o: [a["alt_text"] for a in _attached_media(o) if a.get("alt_text")],
        "A medium's alt_text is its description.",
    ),
    Check(
        "poll_options_kept",
        "A poll's options (includes.polls) are kept with the post.",
        passes=lambda o: all(
            label in o.item.text or label in json.dumps(o.item.raw, ensure_ascii=False)
            for label in _poll_labels(o)
        ),
        applies=lambda o: mapped(o) and bool(_poll_labels(o)),
    ),
    common.language_is_iso_639_1(
        "The language is None or an ISO 639-1 code (never X's qst, zxx, und, qme, in…).",
        applies=lambda o: mapped(o) and isinstance(_post(o).get("lang"), str),
    ),
    common.language_kept(
        lambda o: x_language(_post(o).get("lang")),
        "Where X names a language, it is kept (X's 'in' as 'id', 'iw' as 'he').",
    ),
    Check(
        "reply_parent",
        "A reply's parent_id is the post it answers (referenced_tweets replied_to).",
        passes=lambda o: o.item.parent_id == _ref(_post(o), "replied_to"),
        applies=lambda o: mapped(o) and _ref(_post(o), "replied_to") is not None,
    ),
    common.reply_thread(
        lambda o: str(_post(o).get("conversation_id")),
        lambda o: (
            _ref(_post(o), "replied_to") is not None and bool(_post(o).get("conversation_id"))
        ),
        "A reply's thread_id is its conversation_id, never its own id.",
    ),
    Check(
        "repost_counts_not_originals",
        "A retweet does not carry the original's public_metrics as its own.",
        passes=lambda o: not o.item.metrics,
        applies=lambda o: mapped(o) and _ref(_post(o), "retweeted") is not None,
    ),
    common.metrics_kept(
        lambda o: {
            name: value
            for name, value in _post(o)["public_metrics"].items()
            if isinstance(value, int)
        },
        lambda o: (
            isinstance(_post(o).get("public_metrics"), Mapping)
            and _ref(_post(o), "retweeted") is None
        ),
        "A post's own public_metrics are kept (not on retweets).",
    ),
    Check(
        "repost_carried",
        "A retweet carries the original (quoted: relation repost, its id, text and author).",
        passes=lambda o: _carries(o, "repost", _ref(_post(o), "retweeted")),
        applies=lambda o: mapped(o) and _ref(_post(o), "retweeted") is not None,
    ),
    Check(
        "quote_carried",
        "A quote carries the quoted post (quoted: relation quote, its id, text and author).",
        passes=lambda o: _carries(o, "quote", _ref(_post(o), "quoted")),
        applies=lambda o: (
            mapped(o)
            and _ref(_post(o), "quoted") is not None
            and _ref(_post(o), "retweeted") is None
        ),
    ),
)
