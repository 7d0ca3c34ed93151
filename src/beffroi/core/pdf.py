"""PDFs a person reads (evidence dossiers, reports): fpdf2 with the Noto fonts Beffroi ships
(``core/fonts/``: Latin, Greek, Cyrillic, Arabic and monochrome emoji, OFL 1.1), so that a
post prints as it was written whatever the machine has installed."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

FONTS = Path(__file__).resolve().parent / "fonts"


class ReadablePdf(FPDF):
    """An A4 PDF whose ``body`` font prints accents, Arabic (shaped, right to left) and
    emoji, each character from the first font that has it."""

    def __init__(self) -> None:
        super().__init__(format="A4")
        self.add_font("body", "", str(FONTS / "NotoSans-Regular.ttf"))
        self.add_font("body", "B", str(FONTS / "NotoSans-Bold.ttf"))
        self.add_font("arabic", "", str(FONTS / "NotoSansArabic-Regular.ttf"))
        self.add_font("arabic", "B", str(FONTS / "NotoSansArabic-Bold.ttf"))
        self.add_font("emoji", "", str(FONTS / "NotoEmoji-Regular.ttf"))
        self.add_font("emoji", "B", str(FONTS / "NotoEmoji-Regular.ttf"))
        self.set_fallback_fonts(["arabic", "emoji"], exact_match=False)
        # Joined, right-to-left Arabic letters need shaping (uharfbuzz, a dependency).
        self.set_text_shaping(True)
        self.set_auto_page_break(True, margin=15)

    def text_font(self, style: str = "", size: int = 10) -> None:
        self.set_font("body", style, size)
