"""A variant against its network's documented limits (declared beside each connector), with
the problems said in the reader's language."""

from __future__ import annotations

from beffroi.connectors.base import Action, ConfigurationError, Connector
from beffroi.connectors.post_limits import DraftMedia, DraftVariant, PostLimits, Problem, check
from beffroi.connectors.registry import connector_class
from beffroi.publishing.models import MediaAsset, PostVariant
from beffroi.sources.models import Source


def connector_of(platform: str) -> type[Connector] | None:
    """The platform's connector class, None where Beffroi has none."""
    try:
        return connector_class(platform)
    except ConfigurationError:
        return None


def limits_of(platform: str) -> PostLimits | None:
    connector = connector_of(platform)
    return connector.post_limits if connector is not None else None


def publishes_by_api(source: Source) -> bool:
    """Whether ``source``'s connector publishes through the platform, as it is set up."""
    connector = connector_of(source.platform)
    return connector is not None and connector.allows(Action.PUBLISH, source.settings or {})


def by_hand(source: Source) -> bool:
    """Posts are prepared for ``source``'s network (its limits are known) but not published
    through it (no publishing interface, or not as the source is set up): a package to post
    by hand."""
    return limits_of(source.platform) is not None and not publishes_by_api(source)


def draft_media(media: MediaAsset) -> DraftMedia:
    return DraftMedia(
        kind=media.kind,
        mime_type=media.mime_type,
        size_bytes=media.size_bytes,
        width=media.width,
        height=media.height,
        duration_seconds=media.duration_seconds,
        alt_text=media.alt_text,
    )


def draft_of(variant: PostVariant, media: list[MediaAsset] | None = None) -> DraftVariant:
    chosen = (
        media
        if media is not None
        else [
            attached.media
            for attached in variant.variantmedia_set.select_related("media").order_by(
                "position", "id"
            )
        ]
        if variant.pk
        else []
    )
    return DraftVariant(
        text=variant.text,
        media=tuple(draft_media(item) for item in chosen),
        link=variant.link,
        first_comment=variant.first_comment,
        title=variant.title,
    )


def problems_of_draft(platform: str, draft: DraftVariant) -> list[Problem]:
    limits = limits_of(platform)
    if limits is None:
        return []
    return check(limits, draft)


def variant_problems(variant: PostVariant) -> list[Problem]:
    return problems_of_draft(variant.source.platform, draft_of(variant))


def say(problem: Problem) -> str:
    """The problem in the reader's language (the library writes English)."""
    from beffroi.publishing.problem_sentences import sentence

    return sentence(problem)
