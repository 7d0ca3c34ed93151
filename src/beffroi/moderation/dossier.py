"""An evidence dossier for a report to the authorities (PHAROS in France) or a complaint.

JSON for machines, PDF for people: the preserved item with its seal (SHA-256), its thread,
its author, every decision taken on it and every appeal. The PDF prints a very long text as
analysis read it (head and tail, :mod:`beffroi.analysis.text_bound`), so it stays a few pages
made in a second; the JSON and the evidence keep the full text. A dossier handed to someone
is written to the audit trail (:func:`export_dossier`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from beffroi.analysis.text_bound import HEAD_CHARS, TAIL_CHARS, analysed_text, is_cut
from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record
from beffroi.core.pdf import ReadablePdf
from beffroi.items.models import Item
from beffroi.moderation import evidence as evidence_store
from beffroi.moderation.display import platform_effect, platform_name
from beffroi.moderation.models import Appeal, Decision, Evidence


def dossier(item: Item) -> dict[str, Any]:
    """Everything known about ``item``'s moderation, as JSON."""
    preserved = list(Evidence.objects.filter(item=item).order_by("created_at", "id"))
    decisions = (
        Decision.objects.filter(item=item)
        .select_related("actor", "confirmed_by", "item")
        .order_by("created_at", "id")
    )
    appeals = Appeal.objects.filter(decision__item=item).order_by("created_at", "id")
    latest = preserved[-1].bundle if preserved else evidence_store.build_bundle(item)
    return {
        "format": "beffroi-dossier/1",
        "generated_at": timezone.now().isoformat(),
        "organization": {"slug": item.organization.slug, "name": item.organization.name},
        "item": latest,
        "evidence": [
            {
                "id": entry.pk,
                "sha256": entry.sha256,
                "preserved_at": entry.created_at.isoformat(),
                "preserved_by": entry.created_by.get_username() if entry.created_by else "system",
                "intact": evidence_store.verify(entry),
                "bundle": entry.bundle,
            }
            for entry in preserved
        ],
        "decisions": [
            {
                "id": decision.pk,
                "at": decision.created_at.isoformat(),
                "action": decision.action,
                "status": decision.status,
                "category": decision.category,
                "category_name": (decision.charter_snapshot or {}).get("name", ""),
                "clause": decision.clause,
                "legal_reference": (decision.charter_snapshot or {}).get("legal_reference", ""),
                "automated": decision.automated,
                "by": decision.actor.get_username() if decision.actor else "beffroi",
                "confirmed_by": decision.confirmed_by.get_username()
                if decision.confirmed_by
                else None,
                "score": decision.score,
                "detectors": decision.detectors,
                "explanation": decision.explanation,
                "note": decision.note,
                "platform_status": decision.platform_status,
                "platform_effect": decision.platform_effect,
                # Said as every screen says it (moderation.display.platform_effect).
                "platform_effect_text": platform_effect(decision).sentence,
                "platform_result": decision.platform_result,
            }
            for decision in decisions
        ],
        "appeals": [
            {
                "id": appeal.pk,
                "at": appeal.created_at.isoformat(),
                "statement": appeal.statement,
                "outcome": appeal.outcome,
                "reasons": appeal.outcome_note,
            }
            for appeal in appeals
        ],
    }


def dossier_json(item: Item) -> bytes:
    return json.dumps(dossier(item), ensure_ascii=False, indent=2).encode("utf-8")


def local_time(value: str | None) -> str:
    """An ISO time as a person reads it where the organization is (``settings.TIME_ZONE``,
    Europe/Paris by default), with the UTC time in brackets for the authorities."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    local = timezone.localtime(moment, ZoneInfo(settings.TIME_ZONE))
    return _("%(local)s %(zone)s (%(utc)s UTC)") % {
        "local": date_format(local, "DATETIME_FORMAT"),
        "zone": local.tzname() or settings.TIME_ZONE,
        "utc": moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
    }


def _platform_line(decision: dict[str, Any]) -> str:
    """What the platform did with the decision, as the screens say it, with the platform's own
    words where it refused or does not allow the action."""
    sentence = str(decision["platform_effect_text"])
    detail = str((decision.get("platform_result") or {}).get("detail") or "")
    if detail and decision["platform_effect"] in (
        Decision.PlatformEffect.REFUSED,
        Decision.PlatformEffect.UNSUPPORTED,
    ):
        return f"{sentence} {detail[:300]}"
    return sentence


def _labels(choices: Any, value: str) -> str:
    return str(dict(choices).get(value, value)) if value else "—"


def dossier_pdf(item: Item) -> bytes:
    """The dossier as a PDF a gendarme or a lawyer reads without help: in the organization's
    language, dated where it is (UTC beside), the post drawn as it appeared (author, text,
    the thread it answers, time, link, platform) before the seals of the preserved evidence."""
    with translation.override(item.organization.language or settings.LANGUAGE_CODE):
        return _dossier_pdf(dossier(item), platform_name(item.platform))


def _dossier_pdf(data: dict[str, Any], platform: str) -> bytes:
    pdf = ReadablePdf()
    pdf.add_page()

    def heading(text: str) -> None:
        pdf.ln(3)
        pdf.text_font("B", 13)
        pdf.multi_cell(0, 7, text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.text_font("", 10)

    def line(label: str, value: Any) -> None:
        pdf.multi_cell(
            0,
            5,
            _("%(label)s: %(value)s") % {"label": label, "value": value},
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )

    def post(entry: dict[str, Any], indent: float, main: bool) -> None:
        """One post drawn as the platform showed it: who, when, what, where."""
        author = entry["author"]
        name = author.get("display_name") or author["handle"]
        pdf.set_x(pdf.l_margin + indent)
        pdf.text_font("B", 11 if main else 9)
        pdf.multi_cell(
            0, 5.5, f"{name}  @{author['handle']}", align="L", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.set_x(pdf.l_margin + indent)
        pdf.text_font("", 8)
        pdf.multi_cell(
            0,
            4.5,
            f"{platform} · {local_time(entry['published_at'])}",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_x(pdf.l_margin + indent)
        pdf.text_font("", 11 if main else 9)
        text = entry.get("text") or ""
        shown = analysed_text(text) if main else text[:500]
        pdf.multi_cell(
            0,
            5.5 if main else 4.5,
            shown or _("(no text)"),
            border=1 if main else 0,
            new_x="LMARGIN",
            new_y="NEXT",
        )
        if entry.get("url"):
            pdf.set_x(pdf.l_margin + indent)
            pdf.text_font("", 8)
            pdf.multi_cell(0, 4.5, entry["url"], align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    record_ = data["item"]["item"]
    pdf.text_font("B", 16)
    pdf.multi_cell(
        0,
        8,
        _("Evidence dossier — %(organization)s") % {"organization": data["organization"]["name"]},
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.text_font("", 10)
    line(_("Generated"), local_time(data["generated_at"]))
    line(_("Platform"), platform)
    line(_("Address of the post"), record_["url"] or "—")
    line(_("Author's page"), record_["author"]["url"] or "—")

    heading(_("The post as it appeared"))
    context = data["item"].get("thread_context") or []
    earlier = [c for c in context if c["published_at"] <= record_["published_at"]][-5:]
    if earlier:
        pdf.text_font("", 8)
        pdf.multi_cell(
            0, 4.5, _("In the thread, before it:"), align="L", new_x="LMARGIN", new_y="NEXT"
        )
        for other in earlier:
            post(other, 6, main=False)
    post(record_, 0, main=True)
    text = record_["text"] or ""
    if is_cut(text):
        line(
            _("Text cut"),
            _(
                "only its first %(head)d and last %(tail)d characters of %(length)d are "
                "printed (what was analysed); the full text is in the JSON dossier and in the "
                "sealed evidence. SHA-256 of the full text (UTF-8): %(sha256)s"
            )
            % {
                "head": HEAD_CHARS,
                "tail": TAIL_CHARS,
                "length": len(text),
                "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            },
        )
    media = record_.get("media") or []
    for entry in media[:10]:
        line(_("Attached media"), f"{entry.get('kind') or '?'} — {entry.get('url') or '—'}")

    heading(_("Sealed evidence"))
    pdf.multi_cell(
        0,
        5,
        _(
            "Beffroi kept the post, its thread and the platform's own data as a JSON bundle the "
            "moment it was preserved, and sealed it with its SHA-256 fingerprint: recomputing the "
            "fingerprint of the JSON dossier's bundle proves it was not changed since."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    if not data["evidence"]:
        line(_("Preserved"), _("no evidence stored yet; this dossier shows the item as stored now"))
    for entry in data["evidence"]:
        state = _("intact") if entry["intact"] else _("ALTERED")
        line(local_time(entry["preserved_at"]), f"SHA-256 {entry['sha256']} ({state})")

    heading(_("Decisions"))
    if not data["decisions"]:
        line(_("Decisions"), _("none"))
    for decision in data["decisions"]:
        who = decision["by"] if decision["by"] != "beffroi" else _("Beffroi (automatic)")
        if decision["confirmed_by"]:
            who += " — " + _("confirmed by %(name)s") % {"name": decision["confirmed_by"]}
        line(
            local_time(decision["at"]),
            f"{_labels(Decision.Action.choices, decision['action'])} "
            f"({_labels(Decision.Status.choices, decision['status'])}) — "
            f"{decision['category_name'] or decision['category'] or '—'} — {who}",
        )
        if decision["legal_reference"]:
            line("  " + _("Legal reference"), decision["legal_reference"])
        if decision["note"]:
            line("  " + _("Note"), decision["note"])
        line("  " + _("On the platform"), _platform_line(decision))
    if data["appeals"]:
        heading(_("Appeals"))
        for appeal in data["appeals"]:
            line(local_time(appeal["at"]), f"{appeal['outcome']}: {appeal['statement'][:500]}")
            if appeal["reasons"]:
                line("  " + _("Reasons"), appeal["reasons"])
    return bytes(pdf.output())


#: The formats a dossier is exported in, and their content types.
DOSSIER_FORMATS = {"json": "application/json", "pdf": "application/pdf"}


def export_dossier(actor: Actor, item: Item, fmt: str) -> bytes:
    """The dossier of ``item`` as JSON or PDF, its export written to the audit trail (who took
    which evidence, by its seals): it carries personal data out of Beffroi."""
    body = dossier_pdf(item) if fmt == "pdf" else dossier_json(item)
    record(
        actor,
        AuditAction.MODERATION_DOSSIER_EXPORTED,
        organization=item.organization,
        obj=item,
        after={
            "format": fmt,
            "evidence": list(item.evidence.values_list("sha256", flat=True)),
        },
    )
    return body
