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
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from beffroi.analysis.text_bound import HEAD_CHARS, TAIL_CHARS, analysed_text, is_cut
from beffroi.audit.actions import AuditAction
from beffroi.audit.services import Actor, record
from beffroi.items.models import Item
from beffroi.moderation import evidence as evidence_store
from beffroi.moderation.models import Appeal, Decision, Evidence

#: Fonts with Latin, Arabic and Cyrillic glyphs, looked for in this order (Debian's
#: fonts-dejavu-core first); without one, the PDF falls back to Latin-1 text.
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/Library/Fonts/Arial Unicode.ttf"),
    Path("C:/Windows/Fonts/arial.ttf"),
)


def dossier(item: Item) -> dict[str, Any]:
    """Everything known about ``item``'s moderation, as JSON."""
    preserved = list(Evidence.objects.filter(item=item).order_by("created_at", "id"))
    decisions = (
        Decision.objects.filter(item=item)
        .select_related("actor", "confirmed_by")
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


class _Pdf(FPDF):
    unicode = False

    def setup_font(self) -> None:
        for candidate in FONT_CANDIDATES:
            if candidate.exists():
                self.add_font("body", "", str(candidate))
                bold = candidate.with_name(candidate.stem + "-Bold.ttf")
                self.add_font("body", "B", str(bold if bold.exists() else candidate))
                self.unicode = True
                # Right-to-left and joined Arabic letters need uharfbuzz (a dependency).
                self.set_text_shaping(True)
                return

    def text_font(self, style: str = "", size: int = 10) -> None:
        self.set_font("body" if self.unicode else "helvetica", style, size)

    def safe(self, text: str) -> str:
        if self.unicode:
            return text
        return text.encode("latin-1", "replace").decode("latin-1")


def dossier_pdf(item: Item) -> bytes:
    """The dossier as a PDF a person can read and print."""
    data = dossier(item)
    pdf = _Pdf(format="A4")
    pdf.setup_font()
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()

    def heading(text: str) -> None:
        pdf.ln(3)
        pdf.text_font("B", 13)
        pdf.multi_cell(0, 7, pdf.safe(text), new_x="LMARGIN", new_y="NEXT")
        pdf.text_font("", 10)

    def line(label: str, value: Any) -> None:
        pdf.multi_cell(0, 5, pdf.safe(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")

    record = data["item"]["item"]
    pdf.text_font("B", 16)
    pdf.multi_cell(
        0,
        8,
        pdf.safe(f"Evidence dossier — {data['organization']['name']}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.text_font("", 10)
    line("Generated", data["generated_at"])
    heading("Content")
    line("Platform", record["platform"])
    line("URL", record["url"] or "—")
    line("Published", record["published_at"])
    line("Author", f"@{record['author']['handle']} ({record['author']['display_name']})")
    line("Author URL", record["author"]["url"] or "—")
    pdf.ln(1)
    pdf.text_font("B", 10)
    pdf.multi_cell(0, 5, pdf.safe("Text:"), new_x="LMARGIN", new_y="NEXT")
    pdf.text_font("", 10)
    text = record["text"] or ""
    pdf.multi_cell(
        0, 5, pdf.safe(analysed_text(text) or "—"), border=1, new_x="LMARGIN", new_y="NEXT"
    )
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
    heading("Seals (SHA-256 of the preserved bundle)")
    if not data["evidence"]:
        line("Preserved", "no evidence stored yet; this dossier shows the item as stored now")
    for entry in data["evidence"]:
        line(
            entry["preserved_at"],
            f"{entry['sha256']} ({'intact' if entry['intact'] else 'ALTERED'})",
        )
    heading("Thread context")
    context = data["item"].get("thread_context") or []
    if not context:
        line("Context", "none stored")
    for other in context[:30]:
        line(f"@{other['author']['handle']} {other['published_at']}", other["text"][:500])
    heading("Decisions")
    for decision in data["decisions"]:
        who = decision["by"] + (
            f", confirmed by {decision['confirmed_by']}" if decision["confirmed_by"] else ""
        )
        line(
            decision["at"],
            f"{decision['action']} ({decision['status']}) — {decision['category'] or '—'} — {who}",
        )
        if decision["legal_reference"]:
            line("  Legal reference", decision["legal_reference"])
        if decision["note"]:
            line("  Note", decision["note"])
        line("  Platform", decision["platform_status"])
    if data["appeals"]:
        heading("Appeals")
        for appeal in data["appeals"]:
            line(appeal["at"], f"{appeal['outcome']}: {appeal['statement'][:500]}")
            if appeal["reasons"]:
                line("  Reasons", appeal["reasons"])
    output = pdf.output()
    return bytes(output)


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
