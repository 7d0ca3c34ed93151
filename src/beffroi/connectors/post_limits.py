"""What each network accepts in a post, declared as data, and the checker that says whether a
draft variant fits, counted the way the network counts.

Each platform connector declares its :class:`PostLimits` (``POST_LIMITS`` beside the
connector, exposed as ``Connector.post_limits``). :func:`check` returns every
:class:`Problem` of a :class:`DraftVariant` in a stable order; each problem has a code, the
field it concerns, its parameters and an English sentence: the web layer translates by code.

Counting (:func:`count_length`):

- ``graphemes``: what a reader sees as one character (Unicode extended grapheme clusters,
  ``regex``'s ``\\X``): an emoji family, a flag or ``e`` + combining accent is one;
- ``characters``: Unicode code points;
- ``utf16``: UTF-16 code units, as JavaScript counts (an emoji outside the BMP is two);
- ``x_weighted``: X's weighted length, twitter-text configuration v3 (see
  :func:`x_weighted_length`).

Where ``url_length`` is set, every link counts that many whatever its length (X and
Mastodon: 23, the length of the shortened link they show).

This module stands alone (no import of :mod:`beffroi.connectors.base`, which imports it).
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import regex

# --- the declarations -----------------------------------------------------------------------


class Counting(enum.StrEnum):
    """How a network counts the length of a text."""

    GRAPHEMES = "graphemes"
    CHARACTERS = "characters"
    UTF16 = "utf16"
    X_WEIGHTED = "x_weighted"


#: Media kinds a draft may carry. A ``gif`` is an ``image/gif`` file (animated or not).
MEDIA_KINDS = frozenset({"image", "gif", "video"})
_GIF_TYPE = "image/gif"


@dataclass(frozen=True, slots=True)
class MediaLimits:
    """What a network accepts as media in one post.

    Dimensions and aspect ratio (width / height) apply to images and GIFs; a video's are
    checked by the platform while it processes it. Limits go in pairs (``min_width`` with
    ``min_height``…) so that a message can always state both. ``alone_kinds`` are the kinds
    that must be a post's only media (X: a video or a GIF goes alone).
    """

    kinds: frozenset[str]
    max_count: int
    image_types: frozenset[str] = frozenset()
    video_types: frozenset[str] = frozenset()
    max_image_bytes: int | None = None
    #: A GIF's limit where it differs from an image's (X: 15 MB against 5 MB).
    max_gif_bytes: int | None = None
    max_video_bytes: int | None = None
    min_width: int | None = None
    min_height: int | None = None
    max_width: int | None = None
    max_height: int | None = None
    max_video_seconds: float | None = None
    min_video_seconds: float | None = None
    min_aspect: float | None = None
    max_aspect: float | None = None
    alone_kinds: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = (self.kinds | self.alone_kinds) - MEDIA_KINDS
        if unknown:
            raise ValueError(f"Unknown media kinds: {', '.join(sorted(unknown))}.")
        for low, high in (
            (self.min_width, self.min_height),
            (self.max_width, self.max_height),
            (self.min_aspect, self.max_aspect),
        ):
            if (low is None) != (high is None):
                raise ValueError("Media dimension and aspect limits are set in pairs.")

    def bytes_limit(self, kind: str) -> int | None:
        """The largest file of ``kind`` accepted, or None when nothing is documented."""
        if kind == "video":
            return self.max_video_bytes
        if kind == "gif" and self.max_gif_bytes is not None:
            return self.max_gif_bytes
        return self.max_image_bytes

    def accepts_type(self, kind: str, mime_type: str) -> bool:
        """Whether a file of ``kind`` and ``mime_type`` is accepted."""
        mime = mime_type.strip().lower()
        if kind == "gif":
            return mime == _GIF_TYPE
        return mime in (self.video_types if kind == "video" else self.image_types)


@dataclass(frozen=True, slots=True)
class PostLimits:
    """A network's publishing constraints, as its documentation gives them.

    ``max_length`` is counted with ``counting``; ``caption_max_length`` replaces it when the
    post carries media (Telegram: a caption). ``max_bytes`` is a second bound in UTF-8 bytes
    (Bluesky's record, YouTube's description). ``link_field``: the network shows a separate
    link as a card (Facebook), in place of media. ``first_comment``: the account can comment
    or reply under its own post right after publishing it. ``notes`` says in English where
    each value comes from; ``sources`` lists those pages.
    """

    platform: str
    label: str
    max_length: int
    counting: Counting
    url_length: int | None = None
    #: Whether ``@name@server`` counts whole; Mastodon counts only ``@name``.
    mention_domains_count: bool = True
    max_bytes: int | None = None
    caption_max_length: int | None = None
    requires_media: bool = False
    media: MediaLimits | None = None
    max_hashtags: int | None = None
    max_mentions: int | None = None
    first_comment: bool = False
    first_comment_max_length: int | None = None
    link_field: bool = False
    max_alt_text: int | None = None
    title_max_length: int | None = None
    requires_title: bool = False
    #: Characters refused in the text and the title (YouTube: ``<`` and ``>``).
    forbidden_characters: str = ""
    notes: str = ""
    sources: tuple[str, ...] = ()


# --- drafts and problems --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DraftMedia:
    """A file attached to a draft: ``kind`` is ``image``, ``gif`` or ``video``; dimensions
    and duration are None when unknown (then they are not checked)."""

    kind: str
    mime_type: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    alt_text: str = ""


@dataclass(frozen=True, slots=True)
class DraftVariant:
    """One network's version of a post being composed."""

    text: str
    media: tuple[DraftMedia, ...] = ()
    link: str = ""
    first_comment: str = ""
    title: str = ""


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a variant does not fit: ``code`` (stable, translated by the web layer), the
    ``field`` concerned (``text``, ``title``, ``link``, ``first_comment``, ``media`` or
    ``alt_text``; media problems carry ``index`` and ``position`` in ``params``), the values
    of the sentence and the sentence in English."""

    code: str
    field: str
    params: Mapping[str, object]
    message: str


#: Every problem code, with its English sentence (``{name}``: a value of ``params``).
MESSAGES: Mapping[str, str] = {
    "empty": "The post is empty: write a text or attach a media.",
    "too_long": "Too long for {network}: {length} counted, {max} allowed.",
    "too_many_bytes": "Too long for {network}: {bytes} bytes once encoded, {max} allowed.",
    "forbidden_characters": "{network} refuses these characters here: {characters}.",
    "too_many_hashtags": "{count} hashtags: {network} allows {max}.",
    "too_many_mentions": "{count} mentions: {network} allows {max}.",
    "title_missing": "{network} needs a title.",
    "title_too_long": "The title counts {length}; {network} allows {max}.",
    "link_unsupported": "{network} has no separate link: write the address in the text.",
    "link_with_media": "On {network}, a post shows its link card or its media, not both.",
    "first_comment_unsupported": "{network} cannot publish a first comment.",
    "media_required": "{network} publishes only posts with a media: attach one.",
    "too_many_media": "{network} takes at most {max} media in a post; this one has {count}.",
    "media_mix": "On {network}, media {position} ({kind}) must be the only media of its post.",
    "media_kind": "Media {position}: {network} does not publish this kind of media ({kind}).",
    "media_type": "Media {position}: {network} does not take {mime_type} files.",
    "media_too_big": "Media {position} weighs {size_bytes} bytes; {network} takes at most {max_bytes}.",
    "media_too_small_dimensions": (
        "Image {position} is {width}×{height} px; {network} needs at least "
        "{min_width}×{min_height} px."
    ),
    "media_too_large_dimensions": (
        "Image {position} is {width}×{height} px; {network} takes at most "
        "{max_width}×{max_height} px."
    ),
    "aspect_ratio": (
        "Image {position} has a width/height ratio of {ratio}; {network} takes from "
        "{min_aspect} to {max_aspect}."
    ),
    "video_too_long": "Video {position} lasts {seconds} s; {network} takes at most {max_seconds} s.",
    "video_too_short": "Video {position} lasts {seconds} s; {network} needs at least {min_seconds} s.",
    "alt_text_missing": (
        "Image {position} has no text alternative: describe it for people who cannot see it."
    ),
    "alt_text_too_long": (
        "The description of image {position} counts {length}; {network} allows {max}."
    ),
}


def _problem(code: str, field_name: str, limits: PostLimits, **params: object) -> Problem:
    values: dict[str, object] = {"network": limits.label, **params}
    return Problem(code, field_name, values, MESSAGES[code].format(**values))


# --- links, hashtags, mentions --------------------------------------------------------------

# Characters a link is made of: URL characters, Latin and Cyrillic letters with their marks
# (as twitter-text). Anything else (a CJK character, an emoji, a space) ends it.
_LINK_CHAR = r"[A-Za-z0-9\-._~:/?#\[\]@!$&()*+,;=%\p{Latin}\p{Cyrillic}\p{M}]"
_SCHEME_LINK = regex.compile(rf"(?<![\w@$#＃＠/])https?://{_LINK_CHAR}+", regex.IGNORECASE)
# X also shortens an address written without http(s) (``ville.fr``); twitter-text knows
# every top-level domain, here any two letters (the country codes) or a common generic one.
_GENERIC_TLDS = (
    "com|net|org|info|biz|edu|gov|int|mil|eu|asia|io|ai|app|dev|co|me|tv|xyz|online|site|"
    "shop|store|blog|news|club|tech|top|paris|bzh|alsace|corsica|quebec|brussels|swiss"
)
_BARE_DOMAIN = regex.compile(
    rf"(?<![\w@$#＃＠./:\-])(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:[a-z]{{2}}|{_GENERIC_TLDS})"
    rf"(?![\w\-])(?:[/?#]{_LINK_CHAR}*)?",
    regex.IGNORECASE,
)
_TRAILING = ".,;:!?…'\""
_CLOSING = {")": "(", "]": "["}


def _trimmed_end(text: str, start: int, end: int) -> int:
    """``end`` moved back past sentence punctuation and closing brackets the link did not
    open (``(voir https://ville.fr/a).`` ends at ``a``; ``…/Lyon_(France)`` keeps its own)."""
    while end > start:
        last = text[end - 1]
        if last in _TRAILING:
            end -= 1
            continue
        opening = _CLOSING.get(last)
        if opening is not None:
            link = text[start:end]
            if link.count(opening) < link.count(last):
                end -= 1
                continue
        break
    return end


def link_spans(text: str, *, bare_domains: bool = False) -> list[tuple[int, int]]:
    """``(start, end)`` of each http(s) link written in ``text``, in order; with
    ``bare_domains``, of addresses written without a scheme too (``ville.fr/agenda``)."""
    spans: list[tuple[int, int]] = []
    for match in _SCHEME_LINK.finditer(text):
        end = _trimmed_end(text, match.start(), match.end())
        if not text[match.start() : end].endswith("://"):
            spans.append((match.start(), end))
    if bare_domains:
        for match in _BARE_DOMAIN.finditer(text):
            start, end = match.start(), _trimmed_end(text, match.start(), match.end())
            if not any(start < taken_end and taken_start < end for taken_start, taken_end in spans):
                spans.append((start, end))
        spans.sort()
    return spans


def _without_links(text: str) -> str:
    """``text`` with its links blanked out (same length), so that nothing inside an address
    (``https://x.fr/#a``, ``https://mastodon.social/@ville``) reads as a tag or a mention."""
    for start, end in link_spans(text, bare_domains=True):
        text = text[:start] + " " * (end - start) + text[end:]
    return text


# A tag has at least one letter (``#2024`` is not one) and is not glued to a word or an
# ``&#38;`` entity.
_HASHTAG = regex.compile(r"(?<![\w&#＃])[#＃](\w*[^\W\d_]\w*)")
_MENTION = regex.compile(
    r"(?<![\w@＠.\-])[@＠](\w(?:[\w.\-]*\w)?(?:@\w(?:[\w\-]*\w)?(?:\.\w(?:[\w\-]*\w)?)+)?)"
)
# Mastodon counts a remote mention ``@name@server`` as ``@name`` (its StatusLengthValidator).
_REMOTE_MENTION = regex.compile(r"(?<![=/\w])@(\w(?:[\w.\-]*\w)?)@\w[\w.\-]*\w")


def hashtags(text: str) -> list[str]:
    """The hashtags of ``text``, in order, without their ``#`` (``#été`` gives ``été``); a
    link's fragment (``https://x.fr/#a``) is not one."""
    return [match.group(1) for match in _HASHTAG.finditer(_without_links(text))]


def mentions(text: str) -> list[str]:
    """The accounts mentioned in ``text``, in order, without their ``@`` (``alice``,
    ``alice.bsky.social``, ``alice@mastodon.social``); an e-mail address is not one."""
    return [match.group(1) for match in _MENTION.finditer(_without_links(text))]


# --- counting ---------------------------------------------------------------------------------

_GRAPHEME = regex.compile(r"\X")
# twitter-text v3 (config/v3.json): weights in hundredths of a character.
_X_SCALE = 100
_X_DEFAULT_WEIGHT = 200
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_X_LIGHT_WEIGHT = 100
_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3")


def grapheme_count(text: str) -> int:
    """How many characters a reader sees (extended grapheme clusters)."""
    return len(_GRAPHEME.findall(text))


def utf16_length(text: str) -> int:
    """How many UTF-16 code units ``text`` takes (what JavaScript's ``length`` says)."""
    return len(text.encode("utf-16-le")) // 2


def plain_length(text: str, counting: Counting) -> int:
    """``text``'s length in the unit of ``counting``, links and mentions as written (a
    weighted count falls back to code points: X weighs only the post itself)."""
    if counting is Counting.GRAPHEMES:
        return grapheme_count(text)
    if counting is Counting.UTF16:
        return utf16_length(text)
    return len(text)


def _x_char_weight(char: str) -> int:
    point = ord(char)
    if any(low <= point <= high for low, high in _X_LIGHT_RANGES):
        return _X_LIGHT_WEIGHT
    return _X_DEFAULT_WEIGHT


def _x_is_emoji(cluster: str) -> bool:
    # A lone ``©`` or ``#`` stays a light character; with its emoji presentation selector or
    # in a sequence it is an emoji.
    if len(cluster) == 1 and _x_char_weight(cluster) == _X_LIGHT_WEIGHT:
        return False
    return _EMOJI.search(cluster) is not None


def _x_weight(segment: str) -> int:
    total = 0
    for cluster in _GRAPHEME.findall(segment):
        if _x_is_emoji(cluster):
            total += _X_DEFAULT_WEIGHT
        else:
            total += sum(_x_char_weight(char) for char in cluster)
    return total


def x_weighted_length(text: str, url_length: int | None = 23) -> int:
    """X's weighted length (twitter-text v3): the text in NFC with its line endings as
    ``\\n``; code points in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F and U+2032–U+2037
    weigh 1, others 2; an emoji sequence (skin tone, ZWJ family, flag, keycap) weighs 2 as a
    whole; each link, with or without ``https://``, weighs ``url_length``."""
    normalized = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    spans = link_spans(normalized, bare_domains=True) if url_length is not None else []
    weight, position = 0, 0
    for start, end in spans:
        weight += _x_weight(normalized[position:start]) + (url_length or 0) * _X_SCALE
        position = end
    weight += _x_weight(normalized[position:])
    return weight // _X_SCALE


def _countable(text: str, limits: PostLimits) -> str:
    """``text`` as the network measures it: each link as ``url_length`` placeholder
    characters, remote mentions without their server where the network does so."""
    if limits.url_length is not None:
        placeholder = "x" * limits.url_length
        pieces, position = [], 0
        for start, end in link_spans(text):
            pieces += [text[position:start], placeholder]
            position = end
        text = "".join([*pieces, text[position:]])
    if not limits.mention_domains_count:
        text = _REMOTE_MENTION.sub(r"@\1", text)
    return text


def count_length(text: str, limits: PostLimits) -> int:
    """``text``'s length as ``limits``' network counts it (see the module's docstring)."""
    if limits.counting is Counting.X_WEIGHTED:
        return x_weighted_length(text, limits.url_length)
    return plain_length(_countable(text, limits), limits.counting)


# --- the checker ------------------------------------------------------------------------------


def _text_problems(limits: PostLimits, variant: DraftVariant) -> list[Problem]:
    problems: list[Problem] = []
    text = variant.text
    if not text.strip() and not variant.media and not limits.requires_media:
        problems.append(_problem("empty", "text", limits))
    maximum = limits.max_length
    if variant.media and limits.caption_max_length is not None:
        maximum = limits.caption_max_length
    length = count_length(text, limits)
    if length > maximum:
        problems.append(_problem("too_long", "text", limits, length=length, max=maximum))
    if limits.max_bytes is not None:
        size = len(text.encode("utf-8"))
        if size > limits.max_bytes:
            problems.append(
                _problem("too_many_bytes", "text", limits, bytes=size, max=limits.max_bytes)
            )
    problems += _forbidden(limits, "text", text)
    tags = hashtags(text)
    if limits.max_hashtags is not None and len(tags) > limits.max_hashtags:
        problems.append(
            _problem("too_many_hashtags", "text", limits, count=len(tags), max=limits.max_hashtags)
        )
    names = mentions(text)
    if limits.max_mentions is not None and len(names) > limits.max_mentions:
        problems.append(
            _problem("too_many_mentions", "text", limits, count=len(names), max=limits.max_mentions)
        )
    return problems


def _forbidden(limits: PostLimits, field_name: str, value: str) -> list[Problem]:
    found = [char for char in limits.forbidden_characters if char in value]
    if not found:
        return []
    return [_problem("forbidden_characters", field_name, limits, characters=" ".join(found))]


def _title_problems(limits: PostLimits, variant: DraftVariant) -> list[Problem]:
    title = variant.title.strip()
    if limits.requires_title and not title:
        return [_problem("title_missing", "title", limits)]
    problems: list[Problem] = []
    if limits.title_max_length is not None and len(title) > limits.title_max_length:
        problems.append(
            _problem(
                "title_too_long", "title", limits, length=len(title), max=limits.title_max_length
            )
        )
    return problems + _forbidden(limits, "title", title)


def _link_and_comment_problems(limits: PostLimits, variant: DraftVariant) -> list[Problem]:
    problems: list[Problem] = []
    if variant.link.strip():
        if not limits.link_field:
            problems.append(_problem("link_unsupported", "link", limits))
        elif variant.media:
            problems.append(_problem("link_with_media", "link", limits))
    comment = variant.first_comment
    if comment.strip():
        if not limits.first_comment:
            problems.append(_problem("first_comment_unsupported", "first_comment", limits))
        elif limits.first_comment_max_length is not None:
            length = count_length(comment, limits)
            if length > limits.first_comment_max_length:
                problems.append(
                    _problem(
                        "too_long",
                        "first_comment",
                        limits,
                        length=length,
                        max=limits.first_comment_max_length,
                    )
                )
    return problems


def _media_problems(limits: PostLimits, variant: DraftVariant) -> list[Problem]:
    media = variant.media
    problems: list[Problem] = []
    if limits.requires_media and not media:
        problems.append(_problem("media_required", "media", limits))
    rules = limits.media
    if media and rules is None:
        problems.append(_problem("too_many_media", "media", limits, max=0, count=len(media)))
    elif rules is not None and len(media) > rules.max_count:
        problems.append(
            _problem("too_many_media", "media", limits, max=rules.max_count, count=len(media))
        )
    for index, item in enumerate(media):
        place = {"index": index, "position": index + 1}
        if rules is not None:
            problems += _one_media_problems(limits, rules, item, len(media), place)
        # RGAA: every image has a text alternative, on every network, with a field or not.
        if item.kind in ("image", "gif"):
            problems += _alt_text_problems(limits, item, place)
    return problems


def _one_media_problems(
    limits: PostLimits,
    rules: MediaLimits,
    item: DraftMedia,
    count: int,
    place: Mapping[str, int],
) -> list[Problem]:
    if item.kind not in rules.kinds:
        return [_problem("media_kind", "media", limits, kind=item.kind, **place)]
    problems: list[Problem] = []
    if item.kind in rules.alone_kinds and count > 1:
        problems.append(_problem("media_mix", "media", limits, kind=item.kind, **place))
    if not rules.accepts_type(item.kind, item.mime_type):
        problems.append(_problem("media_type", "media", limits, mime_type=item.mime_type, **place))
    most = rules.bytes_limit(item.kind)
    if most is not None and item.size_bytes > most:
        problems.append(
            _problem(
                "media_too_big",
                "media",
                limits,
                size_bytes=item.size_bytes,
                max_bytes=most,
                **place,
            )
        )
    if item.kind == "video":
        problems += _duration_problems(limits, rules, item, place)
    else:
        problems += _shape_problems(limits, rules, item, place)
    return problems


def _shape_problems(
    limits: PostLimits, rules: MediaLimits, item: DraftMedia, place: Mapping[str, int]
) -> list[Problem]:
    width, height = item.width, item.height
    if not width or not height:
        return []
    problems: list[Problem] = []
    size = {"width": width, "height": height, **place}
    if rules.min_width is not None and rules.min_height is not None:
        if width < rules.min_width or height < rules.min_height:
            problems.append(
                _problem(
                    "media_too_small_dimensions",
                    "media",
                    limits,
                    min_width=rules.min_width,
                    min_height=rules.min_height,
                    **size,
                )
            )
    if rules.max_width is not None and rules.max_height is not None:
        if width > rules.max_width or height > rules.max_height:
            problems.append(
                _problem(
                    "media_too_large_dimensions",
                    "media",
                    limits,
                    max_width=rules.max_width,
                    max_height=rules.max_height,
                    **size,
                )
            )
    if rules.min_aspect is not None and rules.max_aspect is not None:
        ratio = width / height
        if not rules.min_aspect <= ratio <= rules.max_aspect:
            problems.append(
                _problem(
                    "aspect_ratio",
                    "media",
                    limits,
                    ratio=round(ratio, 2),
                    min_aspect=rules.min_aspect,
                    max_aspect=rules.max_aspect,
                    **place,
                )
            )
    return problems


def _duration_problems(
    limits: PostLimits, rules: MediaLimits, item: DraftMedia, place: Mapping[str, int]
) -> list[Problem]:
    seconds = item.duration_seconds
    if seconds is None:
        return []
    if rules.max_video_seconds is not None and seconds > rules.max_video_seconds:
        return [
            _problem(
                "video_too_long",
                "media",
                limits,
                seconds=seconds,
                max_seconds=rules.max_video_seconds,
                **place,
            )
        ]
    if rules.min_video_seconds is not None and seconds < rules.min_video_seconds:
        return [
            _problem(
                "video_too_short",
                "media",
                limits,
                seconds=seconds,
                min_seconds=rules.min_video_seconds,
                **place,
            )
        ]
    return []


def _alt_text_problems(
    limits: PostLimits, item: DraftMedia, place: Mapping[str, int]
) -> list[Problem]:
    if not item.alt_text.strip():
        return [_problem("alt_text_missing", "alt_text", limits, **place)]
    if limits.max_alt_text is not None:
        length = plain_length(item.alt_text, limits.counting)
        if length > limits.max_alt_text:
            return [
                _problem(
                    "alt_text_too_long",
                    "alt_text",
                    limits,
                    length=length,
                    max=limits.max_alt_text,
                    **place,
                )
            ]
    return []


def check(limits: PostLimits, variant: DraftVariant) -> list[Problem]:
    """Every way ``variant`` does not fit ``limits``' network, in a stable order: the text,
    the title, the link and first comment, then the media one by one. Empty when it fits."""
    return [
        *_text_problems(limits, variant),
        *_title_problems(limits, variant),
        *_link_and_comment_problems(limits, variant),
        *_media_problems(limits, variant),
    ]


# --- the documentation table ------------------------------------------------------------------


def _size(count: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("GB", 10**9), ("MB", 10**6)):
        if count % factor == 0:
            return f"{count // factor:,} {unit}"
    return f"{count:,} bytes"


def _number(value: float) -> str:
    return f"{value:g}"


def _duration(seconds: float) -> str:
    for unit, factor in (("h", 3600), ("min", 60)):
        if seconds >= factor and seconds % factor == 0:
            return f"{_number(seconds / factor)} {unit}"
    return f"{_number(seconds)} s"


_COUNTING_WORDS = {
    Counting.GRAPHEMES: "graphemes",
    Counting.CHARACTERS: "characters",
    Counting.UTF16: "UTF-16 units",
    Counting.X_WEIGHTED: "weighted (X)",
}


def _length_cell(limits: PostLimits) -> str:
    parts = [f"{limits.max_length:,} {_COUNTING_WORDS[limits.counting]}"]
    if limits.caption_max_length is not None:
        parts.append(f"{limits.caption_max_length:,} with media")
    if limits.max_bytes is not None:
        parts.append(f"{limits.max_bytes:,} bytes")
    if limits.url_length is not None:
        parts.append(f"a link counts {limits.url_length}")
    if not limits.mention_domains_count:
        parts.append("@name@server counts as @name")
    if limits.title_max_length is not None:
        required = ", required" if limits.requires_title else ""
        parts.append(f"title {limits.title_max_length:,} characters{required}")
    if limits.forbidden_characters:
        parts.append("no " + " ".join(f"`{char}`" for char in limits.forbidden_characters))
    return "; ".join(parts)


def _media_cell(limits: PostLimits) -> str:
    rules = limits.media
    if rules is None:
        return "none"
    parts = ["required" if limits.requires_media else "optional"]
    kinds = ", ".join(kind for kind in ("image", "gif", "video") if kind in rules.kinds)
    parts.append(f"up to {rules.max_count}: {kinds}")
    if rules.alone_kinds:
        alone = ", ".join(kind for kind in ("image", "gif", "video") if kind in rules.alone_kinds)
        parts.append(f"{alone} alone")
    types = sorted(rules.image_types | rules.video_types)
    if "gif" in rules.kinds:
        types = sorted({*types, _GIF_TYPE})
    if types:
        parts.append(" ".join(f"`{mime}`" for mime in types))
    for kind, label in (("image", "image"), ("gif", "GIF"), ("video", "video")):
        most = rules.bytes_limit(kind)
        if kind in rules.kinds and most is not None:
            parts.append(f"{label} ≤ {_size(most)}")
    if rules.min_width is not None:
        parts.append(f"at least {rules.min_width}×{rules.min_height} px")
    if rules.max_width is not None:
        parts.append(f"at most {rules.max_width}×{rules.max_height} px")
    if rules.min_aspect is not None and rules.max_aspect is not None:
        parts.append(f"width/height {_number(rules.min_aspect)} to {_number(rules.max_aspect)}")
    low, high = rules.min_video_seconds, rules.max_video_seconds
    if low is not None and high is not None:
        parts.append(f"video {_duration(low)} to {_duration(high)}")
    elif high is not None:
        parts.append(f"video up to {_duration(high)}")
    elif low is not None:
        parts.append(f"video at least {_duration(low)}")
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def limits_table_markdown(limits: Iterable[PostLimits]) -> str:
    """The Markdown table of ``limits`` (one row per network) and its notes, as
    ``docs/publishing-limits.md`` shows them between its ``<!-- limits-table -->`` markers."""
    rows = [
        "| Network | Length (how counted) | Media | Alt text | Hashtags / mentions "
        "| First comment | Sources |",
        "|---|---|---|---|---|---|---|",
    ]
    notes = []
    for entry in limits:
        alt = "no field" if entry.max_alt_text is None else f"up to {entry.max_alt_text:,}"
        tags = "/".join(
            "—" if value is None else str(value)
            for value in (entry.max_hashtags, entry.max_mentions)
        )
        comment = "no"
        if entry.first_comment:
            comment = "yes"
            if entry.first_comment_max_length is not None:
                comment += f", {entry.first_comment_max_length:,}"
        if entry.link_field:
            comment += "; link card (not with media)"
        sources = " ".join(
            f"[{number}]({url})" for number, url in enumerate(entry.sources, start=1)
        )
        cells = [
            entry.label,
            _length_cell(entry),
            _media_cell(entry),
            alt,
            tags,
            comment,
            sources,
        ]
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
        notes.append(f"- **{entry.label}**: {_cell(entry.notes)}")
    return "\n".join([*rows, "", *notes]) + "\n"
