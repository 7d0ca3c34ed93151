"""Plain text from the sanitised HTML platforms send (Mastodon statuses, feed entries)."""

from __future__ import annotations

from html.parser import HTMLParser

_BLOCK_TAGS = frozenset(
    {"p", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "div"}
)
_SKIPPED_TAGS = frozenset({"script", "style"})
#: Mastodon's "RE: <link>" paragraph for clients that cannot show a quote: the quote itself
#: is carried beside the text (``NormalizedItem.quoted``), as Mastodon's clients show it.
_QUOTE_FALLBACK = "quote-inline"
#: HTML's white space (not the no-break space, which is kept).
_HTML_SPACE = str.maketrans("\t\n\r\f", "    ")


# --- the parser ----------------------------------------------------------------------------------


def _classes(attrs: list[tuple[str, str | None]]) -> set[str]:
    return set((dict(attrs).get("class") or "").split())


class _HTMLText(HTMLParser):
    """Sanitised HTML to plain text, and the addresses it links to (mentions and hashtags,
    which Mastodon marks with classes, excluded)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._pre = 0
        self._skip = 0
        self.links: list[str] = []

    def _newlines(self, count: int) -> None:
        text = "".join(self._parts)
        if not text.strip():
            return
        trailing = len(text) - len(text.rstrip("\n"))
        if trailing < count:
            self._parts.append("\n" * (count - trailing))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS or (tag == "p" and _QUOTE_FALLBACK in _classes(attrs)):
            self._skip += 1
        elif self._skip:
            return
        elif tag == "br":
            self._parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self._newlines(2)
            if tag == "pre":
                self._pre += 1
        elif tag == "li":
            self._newlines(1)
        elif tag == "a":
            href = dict(attrs).get("href")
            if href and not _classes(attrs) & {"mention", "hashtag"}:
                self.links.append(href)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS or (tag == "p" and self._skip):
            self._skip = max(0, self._skip - 1)
        elif self._skip:
            return
        elif tag in _BLOCK_TAGS:
            if tag == "pre" and self._pre:
                self._pre -= 1
            self._newlines(2)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre:
            self._parts.append(data)
            return
        # Outside <pre>, HTML collapses white space (line breaks come from <br> and blocks).
        spaced = data.translate(_HTML_SPACE)
        collapsed = " ".join(word for word in spaced.split(" ") if word)
        at_line_start = not self._parts or self._parts[-1].endswith("\n")
        if spaced.startswith(" ") and not at_line_start:
            collapsed = f" {collapsed}"
        if spaced.endswith(" ") and collapsed.strip(" "):
            collapsed = f"{collapsed} "
        self._parts.append(collapsed)

    def text(self) -> str:
        lines = "".join(self._parts).split("\n")
        return "\n".join(line.rstrip() for line in lines).strip("\n").strip()


def html_to_text(content: str) -> tuple[str, tuple[str, ...]]:
    """Plain text of a status's HTML ``content`` and the links in it (mentions/tags excluded)."""
    parser = _HTMLText()
    parser.feed(content)
    parser.close()
    links = tuple(dict.fromkeys(parser.links))
    return parser.text(), links
