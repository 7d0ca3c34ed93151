"""The network checks' problems said in the reader's language.

The checks (:mod:`beffroi.connectors.post_limits`, a plain library) write English sentences;
the pages say each problem from its code with the same values, translated here.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from beffroi.connectors.post_limits import Problem

SENTENCES: Mapping[str, object] = {
    "empty": _("The post is empty: write a text or attach a media."),
    "too_long": _("Too long for %(network)s: %(length)s counted, %(max)s allowed."),
    "too_many_bytes": _("Too long for %(network)s: %(bytes)s bytes once encoded, %(max)s allowed."),
    "forbidden_characters": _("%(network)s refuses these characters here: %(characters)s."),
    "too_many_hashtags": _("%(count)s hashtags: %(network)s allows %(max)s."),
    "too_many_mentions": _("%(count)s mentions: %(network)s allows %(max)s."),
    "title_missing": _("%(network)s needs a title."),
    "title_too_long": _("The title counts %(length)s; %(network)s allows %(max)s."),
    "link_unsupported": _("%(network)s has no separate link: write the address in the text."),
    "link_with_media": _("On %(network)s, a post shows its link card or its media, not both."),
    "first_comment_unsupported": _("%(network)s cannot publish a first comment."),
    "media_required": _("%(network)s publishes only posts with a media: attach one."),
    "too_many_media": _(
        "%(network)s takes at most %(max)s media in a post; this one has %(count)s."
    ),
    "media_mix": _(
        "On %(network)s, media %(position)s (%(kind)s) must be the only media of its post."
    ),
    "media_kind": _(
        "Media %(position)s: %(network)s does not publish this kind of media (%(kind)s)."
    ),
    "media_type": _("Media %(position)s: %(network)s does not take %(mime_type)s files."),
    "media_too_big": _(
        "Media %(position)s weighs %(size_bytes)s bytes; %(network)s takes at most %(max_bytes)s."
    ),
    "media_too_small_dimensions": _(
        "Image %(position)s is %(width)s×%(height)s px; %(network)s needs at least "
        "%(min_width)s×%(min_height)s px."
    ),
    "media_too_large_dimensions": _(
        "Image %(position)s is %(width)s×%(height)s px; %(network)s takes at most "
        "%(max_width)s×%(max_height)s px."
    ),
    "aspect_ratio": _(
        "Image %(position)s has a width/height ratio of %(ratio)s; %(network)s takes from "
        "%(min_aspect)s to %(max_aspect)s."
    ),
    "video_too_long": _(
        "Video %(position)s lasts %(seconds)s s; %(network)s takes at most %(max_seconds)s s."
    ),
    "video_too_short": _(
        "Video %(position)s lasts %(seconds)s s; %(network)s needs at least %(min_seconds)s s."
    ),
    "alt_text_missing": _(
        "Image %(position)s has no text alternative: describe it for people who cannot see it."
    ),
    "alt_text_too_long": _(
        "The description of image %(position)s counts %(length)s; %(network)s allows %(max)s."
    ),
}


def sentence(problem: Problem) -> str:
    """The problem in the active language; the library's English where a code is new."""
    template = SENTENCES.get(problem.code)
    if template is None:
        return problem.message
    try:
        return str(template) % dict(problem.params)
    except (KeyError, TypeError, ValueError):
        return problem.message
