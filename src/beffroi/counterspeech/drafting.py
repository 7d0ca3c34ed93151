"""Drafting a reply with a language model, grounded on the library: the organization's settings
(off by default) and the draft itself.

A draft rests only on the entries a person chose (approved, within their dates, of the
organization's library or one it subscribes to) and on the pages they cite, as last read
(:class:`~beffroi.counterspeech.models.SourceSnapshot`): they are numbered and given to the
model (:mod:`beffroi.analysis.counterspeech.drafting`), which must cite them. The draft is
then checked twice: against its grounds (a figure, date, name, link or account none of them
holds) and by the organization's own moderation (its live charter's rules and classifier, as
a comment would be judged). A draft that fails either is still returned, flagged, with the
reasons in words, so that the person sees why it cannot be used as is; a person always edits
and sends.

Who may do what: change the settings and test the endpoint, the administrators (``MANAGE``);
ask for a draft, those who answer (``ANSWER``). The API key is encrypted at rest, never shown,
never written to the audit trail; the audit trail keeps that a draft was asked for, on what,
and its outcome, not its text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx2
from django.db import transaction
from django.utils.translation import gettext as _

from beffroi.analysis.counterspeech import drafting as library
from beffroi.analysis.counterspeech.grounding import GroundingProblem, ProblemKind
from beffroi.analysis.moderation.decide import Verdict, judge
from beffroi.audit.actions import AuditAction
from beffroi.audit.services import record
from beffroi.counterspeech.models import (
    LANGUAGE_CODES,
    Entry,
    EntrySource,
    LibrarySettings,
    SourceSnapshot,
)
from beffroi.counterspeech.services import LibraryError, library_of, visible_entries
from beffroi.items.models import Item
from beffroi.moderation.detectors import model_detectors, rule_detectors, run
from beffroi.moderation.policy import charter_policies
from beffroi.organizations.context import OrgContext
from beffroi.organizations.roles import Capability
from beffroi.sources.redaction import redact_addresses

#: The bounds of the longest draft a person may ask for (characters).
MIN_CHARACTERS = 100
MAX_CHARACTERS = 5_000
#: Entries a draft rests on at most, and pages of each entry given to the model.
MAX_ENTRIES = 5
MAX_SOURCES_PER_ENTRY = 3


@dataclass(frozen=True)
class Citation:
    """A numbered ground of the draft: an entry's text, or one of the pages it rests on."""

    number: int
    entry: Entry
    source: EntrySource | None = None

    @property
    def title(self) -> str:
        if self.source is not None:
            return self.source.title or self.source.url
        return self.entry.title

    @property
    def url(self) -> str:
        return self.source.url if self.source is not None else ""


@dataclass
class DraftOutcome:
    """A draft and what the checks found: ``accepted`` only when they found nothing."""

    text: str
    model: str
    language: str
    #: The grounds it cites, in the order first cited.
    citations: list[Citation]
    #: Every ground it was given.
    grounds: list[Citation]
    #: Why it cannot be used as is, in words (empty: it can).
    problems: list[str] = field(default_factory=list)
    #: Whether the organization's moderation read it (False: no live charter).
    moderation_checked: bool = True

    @property
    def accepted(self) -> bool:
        return not self.problems


# --- the settings -----------------------------------------------------------------------------


def settings_of(ctx: OrgContext) -> LibrarySettings | None:
    return library_of(ctx.organization)


def save_settings(
    ctx: OrgContext,
    *,
    enabled: bool,
    endpoint: str,
    model: str,
    max_characters: int,
    api_key: str = "",
    clear_api_key: bool = False,
) -> LibrarySettings:
    """Turn drafting on or off and say with which endpoint, model and key. An empty
    ``api_key`` keeps the one stored (``clear_api_key`` removes it): the key is never shown
    back, so a person types it again only to replace it."""
    ctx.require(Capability.MANAGE)
    endpoint, model = endpoint.strip(), model.strip()
    if enabled and not (endpoint and model):
        raise LibraryError(
            _("To turn drafting on, give the endpoint's address and the model's name."),
            "invalid",
        )
    if endpoint:
        try:
            library.chat_base_url(endpoint)
        except library.DraftingError:
            raise LibraryError(
                _(
                    "The endpoint's address must start with http:// or https:// "
                    "(such as http://127.0.0.1:8080/v1)."
                ),
                "invalid",
            ) from None
    if not MIN_CHARACTERS <= max_characters <= MAX_CHARACTERS:
        raise LibraryError(
            _("The longest draft must be between %(low)d and %(high)d characters.")
            % {"low": MIN_CHARACTERS, "high": MAX_CHARACTERS},
            "invalid",
        )
    with transaction.atomic():
        settings, _created = LibrarySettings.objects.select_for_update().get_or_create(
            organization=ctx.organization
        )
        before = _shown(settings)
        settings.drafting_enabled = enabled
        settings.drafting_endpoint = endpoint
        settings.drafting_model = model
        settings.drafting_max_characters = max_characters
        key_change = ""
        if clear_api_key and settings.drafting_api_key_encrypted:
            settings.set_drafting_api_key("")
            key_change = "removed"
        elif api_key.strip():
            settings.set_drafting_api_key(api_key.strip())
            key_change = "replaced"
        settings.save()
        after = _shown(settings)
        if after != before or key_change:
            record(
                ctx.actor,
                AuditAction.COUNTER_SPEECH_DRAFTING_SETTINGS,
                organization=ctx.organization,
                obj=settings,
                before=before,
                after={**after, "api_key_change": key_change} if key_change else after,
            )
    return settings


def _shown(settings: LibrarySettings) -> dict[str, Any]:
    """What the audit trail keeps of the settings: whether a key is stored, never the key."""
    return {
        "enabled": settings.drafting_enabled,
        "endpoint": redact_addresses(settings.drafting_endpoint),
        "model": settings.drafting_model,
        "max_characters": settings.drafting_max_characters,
        "api_key_stored": bool(settings.drafting_api_key_encrypted),
    }


def _configured(ctx: OrgContext) -> LibrarySettings:
    settings = settings_of(ctx)
    if settings is None or not settings.drafting_enabled:
        raise LibraryError(
            _(
                "Drafting by a language model is off for this organization. An administrator "
                "can turn it on in Counter-speech, Drafting."
            ),
            "drafting_off",
        )
    if not (settings.drafting_endpoint and settings.drafting_model):
        raise LibraryError(
            _(
                "Drafting has no endpoint or model yet: an administrator sets them in "
                "Counter-speech, Drafting."
            ),
            "drafting_off",
        )
    return settings


def try_endpoint(ctx: OrgContext, *, transport: httpx2.BaseTransport | None = None) -> str:
    """Ask the configured endpoint for a word; returns the model that answered, or raises
    :class:`LibraryError` with what went wrong and what to do (nothing is stored)."""
    ctx.require(Capability.MANAGE)
    settings = settings_of(ctx)
    if settings is None or not (settings.drafting_endpoint and settings.drafting_model):
        raise LibraryError(
            _("Give the endpoint's address and the model's name first, then test them."),
            "invalid",
        )
    try:
        return library.check_endpoint(
            base_url=settings.drafting_endpoint,
            model=settings.drafting_model,
            api_key=settings.drafting_api_key,
            transport=transport,
        )
    except library.DraftingError as exc:
        raise LibraryError(refusal(exc, settings.drafting_model), exc.code) from None


def refusal(exc: library.DraftingError, model: str) -> str:
    """What went wrong with the endpoint, and what to do, in words."""
    where = _("Counter-speech, Drafting")
    sentences = {
        "configuration": _("The endpoint's address is not an http:// or https:// address."),
        "unreachable": _(
            "The language model's endpoint could not be reached. If it runs on this server or "
            "its network (llama.cpp, vLLM, Ollama), the server's administrator must allow its "
            "address in BEFFROI_ALLOWED_INTERNAL_HOSTS."
        ),
        "timeout": _(
            "The language model did not answer in time. Try again, or choose a smaller model."
        ),
        "key_refused": _(
            "The endpoint refused the API key: an administrator can replace it in %(where)s."
        )
        % {"where": where},
        "model_unknown": _(
            "The endpoint does not know the model “%(model)s”, or its address is not an "
            "OpenAI-compatible one (ending in /v1): check both in %(where)s."
        )
        % {"model": model, "where": where},
        "quota": _("The endpoint's account has no quota left."),
        "server_error": _("The endpoint failed on its side: try again later."),
        "refused": _("The endpoint refused the request (%(reason)s).")
        % {"reason": redact_addresses(str(exc))},
        "malformed": _("The endpoint answered with nothing usable as a reply."),
    }
    if exc.code == "rate_limited":
        if exc.retry_after is not None:
            return _("The endpoint asks to slow down: try again in %(seconds)d seconds.") % {
                "seconds": max(1, round(exc.retry_after))
            }
        return _("The endpoint asks to slow down: try again in a moment.")
    return sentences.get(exc.code, str(exc))


# --- the draft --------------------------------------------------------------------------------


def _text_of(entry: Entry, language: str) -> str:
    texts = {text.language: text.text for text in entry.texts.all()}
    return texts.get(language) or next(iter(texts.values()), "")


def _grounds(
    entries: Sequence[Entry], language: str, post: str
) -> tuple[list[Citation], list[library.Document]]:
    """Each entry's text, then its pages (their latest reading), numbered from 1."""
    citations: list[Citation] = []
    documents: list[library.Document] = []
    for entry in entries:
        text = _text_of(entry, language)
        citations.append(Citation(len(citations) + 1, entry))
        documents.append(library.Document(text=text, title=entry.title))
        for source in list(entry.sources.all())[:MAX_SOURCES_PER_ENTRY]:
            latest = (
                SourceSnapshot.objects.filter(source=source).order_by("-fetched_at", "-id").first()
            )
            page = latest.text if latest is not None else ""
            citations.append(Citation(len(citations) + 1, entry, source))
            documents.append(
                library.Document(
                    text=library.excerpt(page, f"{text}\n{post}"),
                    title=source.title,
                    url=source.url,
                )
            )
    return citations, documents


def _in_words(problem: GroundingProblem, limit: int) -> str:
    token = problem.token
    sentences = {
        ProblemKind.NUMBER: _("The figure “%(token)s” is in none of its sources."),
        ProblemKind.DATE: _("The date “%(token)s” is in none of its sources."),
        ProblemKind.LINK: _("The address “%(token)s” is in none of its sources."),
        ProblemKind.HANDLE: _("The account “%(token)s” is in none of its sources."),
        ProblemKind.NAME: _("The name “%(token)s” is in none of its sources."),
        ProblemKind.CITATION: _("It cites %(token)s, which is not one of its sources."),
        ProblemKind.UNCITED: _("It cites none of its sources."),
        ProblemKind.LENGTH: _(
            "It is %(token)s characters long, more than the %(limit)d asked for."
        ),
    }
    return sentences[problem.kind] % {"token": token, "limit": limit}


def _moderation_problems(ctx: OrgContext, text: str) -> tuple[list[str], bool]:
    """How the organization's live charter would judge the draft as a comment: the reasons
    it would hide it or send it to a person (a category in shadow mode only records)."""
    live, _shadow = charter_policies(ctx.organization)
    if live is None:
        return [], False
    signals = run(rule_detectors(live.key), [text])[0]
    signals += run(model_detectors(ctx.organization), [text])[0]
    judgement = judge(signals, live)
    if judgement.verdict is Verdict.KEEP or judgement.shadow:
        return [], True
    category = live.categories[judgement.category]
    values = {"category": category.name, "score": round(judgement.score * 100)}
    if judgement.verdict is Verdict.HIDE:
        reason = _("The organization's moderation would hide it: %(category)s (%(score)d%%).")
    else:
        reason = _(
            "The organization's moderation would send it to a person: %(category)s (%(score)d%%)."
        )
    return [reason % values], True


def _not_groundable() -> LibraryError:
    return LibraryError(
        _(
            "A draft rests only on approved entries, within their dates, of a library the "
            "organization reads."
        ),
        "invalid",
    )


def _groundable(ctx: OrgContext) -> Any:
    return visible_entries(ctx.organization).suggestible().prefetch_related("texts", "sources")


def chosen_entries(ctx: OrgContext, keys: Sequence[str]) -> list[Entry]:
    """The entries of ``keys`` (in their order) a draft may rest on: approved, within their
    dates, of the organization's library or of one it reads; :class:`LibraryError` when one
    is not."""
    wanted = list(dict.fromkeys(key for key in keys if key))[:MAX_ENTRIES]
    if not wanted:
        raise LibraryError(_("Choose at least one library entry to draft from."), "invalid")
    by_key = {entry.key: entry for entry in _groundable(ctx).filter(key__in=wanted)}
    if len(by_key) != len(wanted):
        raise _not_groundable()
    return [by_key[key] for key in wanted]


def draft_for(
    ctx: OrgContext,
    item: Item,
    entries: Sequence[Entry],
    language: str,
    *,
    transport: httpx2.BaseTransport | None = None,
) -> DraftOutcome:
    """A reply to ``item`` drafted from ``entries`` in ``language``, checked against its
    grounds and by the organization's moderation. Raises :class:`LibraryError` when drafting
    is off, the input is not one a draft may rest on, or the endpoint gave no draft."""
    ctx.require(Capability.ANSWER)
    settings = _configured(ctx)
    if item.organization_id != ctx.organization.pk:
        raise LibraryError(_("This item is not one of the organization's."), "invalid")
    language = language.strip().lower()
    if language not in LANGUAGE_CODES:
        raise LibraryError(_("Choose the language of the draft."), "invalid")
    if not entries:
        raise LibraryError(_("Choose at least one library entry to draft from."), "invalid")
    wanted = [entry.pk for entry in entries][:MAX_ENTRIES]
    by_pk = {entry.pk: entry for entry in _groundable(ctx).filter(pk__in=wanted)}
    if len(by_pk) != len(set(wanted)):
        raise _not_groundable()
    entries = [by_pk[pk] for pk in dict.fromkeys(wanted)]
    grounds, documents = _grounds(entries, language, item.text)
    asked: dict[str, Any] = {
        "entries": [entry.key for entry in entries],
        "language": language,
        "model": settings.drafting_model,
    }
    try:
        draft = library.draft_reply(
            item.text,
            documents,
            base_url=settings.drafting_endpoint,
            model=settings.drafting_model,
            api_key=settings.drafting_api_key,
            language=language,
            max_characters=settings.drafting_max_characters,
            transport=transport,
        )
    except library.DraftingError as exc:
        record(
            ctx.actor,
            AuditAction.COUNTER_SPEECH_DRAFT,
            organization=ctx.organization,
            obj=item,
            after={**asked, "outcome": "failed", "error": exc.code},
        )
        raise LibraryError(refusal(exc, settings.drafting_model), exc.code) from None
    limit = settings.drafting_max_characters
    problems = [_in_words(problem, limit) for problem in draft.problems]
    flagged, checked = _moderation_problems(ctx, draft.text)
    problems += flagged
    by_number = {citation.number: citation for citation in grounds}
    outcome = DraftOutcome(
        text=draft.text,
        model=draft.model,
        language=language,
        citations=[by_number[number] for number in draft.cited],
        grounds=grounds,
        problems=problems,
        moderation_checked=checked,
    )
    record(
        ctx.actor,
        AuditAction.COUNTER_SPEECH_DRAFT,
        organization=ctx.organization,
        obj=item,
        after={
            **asked,
            "model": draft.model,
            "outcome": "accepted" if outcome.accepted else "rejected",
            "problems": [problem.kind.value for problem in draft.problems]
            + (["moderation"] if flagged else []),
            "cited": draft.cited,
            "characters": len(draft.text),
            # What was drafted can be matched later without the trail keeping it.
            "sha256": hashlib.sha256(draft.text.encode()).hexdigest(),
        },
    )
    return outcome
