"""A fake news site serving one feed in RSS 2.0, RSS 1.0 and Atom 1.0, as such sites do.

- ``/feed.xml`` (RSS 2.0, with ``media:content`` and ``enclosure``), ``/rdf.xml`` (RSS 1.0,
  RDF with ``dc:date``), ``/atom.xml`` (Atom 1.0): the ``window`` newest entries, newest
  first, with an ``ETag`` and a ``Last-Modified``; ``If-None-Match`` / ``If-Modified-Since``
  that still match are answered ``304 Not Modified`` without a body.
- ``/moved`` answers ``301`` to ``/feed.xml``, ``/elsewhere`` answers ``302`` to it,
  ``/loop`` redirects to itself; ``/page.html`` is a web page, not a feed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply

RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
RDF = "application/rdf+xml; charset=utf-8"
HTML = "text/html; charset=utf-8"


@dataclass
class FakeEntry:
    number: int
    title: str
    summary_html: str
    published: datetime
    author: str = "Rédaction"
    image: str = ""
    audio: str = ""
    links: list[str] = field(default_factory=list)

    @property
    def guid(self) -> str:
        return f"urn:uuid:entry-{self.number}"

    @property
    def link(self) -> str:
        return f"https://news.example/articles/{self.number}"


class FakeFeedSite(LoopbackServer):
    """One site, one feed in three formats."""

    unavailable_body = "Service Unavailable"

    def __init__(self, window: int = 20) -> None:
        super().__init__()
        self.window = window
        self.entries: list[FakeEntry] = []
        self._clock = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)

    def add(self, title: str, summary_html: str = "", **fields: object) -> FakeEntry:
        with self.lock:
            self._clock += timedelta(minutes=5)
            fields.setdefault("published", self._clock)
            entry = FakeEntry(len(self.entries) + 1, title, summary_html, **fields)  # type: ignore[arg-type]
            self.entries.append(entry)
            return entry

    def listed(self) -> list[FakeEntry]:
        return list(reversed(self.entries[-self.window :]))

    # --- formats -------------------------------------------------------------------------

    def rss20(self) -> str:
        items = []
        for entry in self.listed():
            extra = ""
            if entry.image:
                extra += f'<media:content url="{entry.image}" medium="image" type="image/jpeg"/>'
            if entry.audio:
                extra += f'<enclosure url="{entry.audio}" length="1024" type="audio/mpeg"/>'
            items.append(
                f"<item><title>{escape(entry.title)}</title><link>{entry.link}</link>"
                f'<guid isPermaLink="false">{entry.guid}</guid>'
                f"<description>{escape(entry.summary_html)}</description>"
                f"<pubDate>{format_datetime(entry.published)}</pubDate>"
                f"<dc:creator>{escape(entry.author)}</dc:creator>{extra}</item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>'
            "<title>Les Nouvelles</title><link>https://news.example/</link>"
            "<description>Actualités</description><language>fr-FR</language>\n"
            + "\n".join(items)
            + "\n</channel></rss>\n"
        )

    def rss10(self) -> str:
        listed = self.listed()
        seq = "".join(f'<rdf:li rdf:resource="{e.link}"/>' for e in listed)
        items = "".join(
            f'<item rdf:about="{e.link}"><title>{escape(e.title)}</title><link>{e.link}</link>'
            f"<description>{escape(e.summary_html)}</description>"
            f"<dc:date>{e.published.isoformat()}</dc:date>"
            f"<dc:creator>{escape(e.author)}</dc:creator></item>"
            for e in listed
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            '<channel rdf:about="https://news.example/rdf.xml"><title>Les Nouvelles</title>'
            "<link>https://news.example/</link><description>Actualités</description>"
            f"<items><rdf:Seq>{seq}</rdf:Seq></items></channel>{items}</rdf:RDF>\n"
        )

    def atom(self) -> str:
        listed = self.listed()
        updated = listed[0].published if listed else self._clock
        entries = "".join(
            f"<entry><title>{escape(e.title)}</title>"
            f'<link rel="alternate" type="text/html" href="{e.link}"/>'
            + "".join(f'<link rel="related" href="{href}"/>' for href in e.links)
            + f"<id>{e.guid}</id><published>{e.published.isoformat()}</published>"
            f"<updated>{e.published.isoformat()}</updated>"
            f"<author><name>{escape(e.author)}</name><uri>https://news.example/team</uri></author>"
            f'<summary type="html">{escape(e.summary_html)}</summary></entry>'
            for e in listed
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">'
            '<title>Les Nouvelles</title><link rel="alternate" href="https://news.example/"/>'
            '<link rel="self" href="https://news.example/atom.xml"/>'
            f"<id>urn:uuid:feed</id><updated>{updated.isoformat()}</updated>{entries}</feed>\n"
        )

    # --- serving -------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        if request.method != "GET":
            return Reply(405, raw=b"", content_type=HTML)
        redirects = {"/moved": (301, "/feed.xml"), "/elsewhere": (302, "/feed.xml")}
        redirects["/loop"] = (302, "/loop")
        if request.path in redirects:
            status, target = redirects[request.path]
            return Reply(status, raw=b"", headers={"Location": target}, content_type=HTML)
        if request.path == "/page.html":
            page = b"<!DOCTYPE html><html><head><title>News</title></head><body><p>Hi</body></html>"
            return Reply(200, raw=page, content_type=HTML)
        formats = {"/feed.xml": (self.rss20, RSS), "/rdf.xml": (self.rss10, RDF)}
        formats["/atom.xml"] = (self.atom, ATOM)
        if request.path not in formats:
            return Reply(404, raw=b"<html><body>Not Found</body></html>", content_type=HTML)
        render, content_type = formats[request.path]
        with self.lock:
            body = render().encode()
            newest = self.entries[-1].published if self.entries else self._clock
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        modified = format_datetime(newest, usegmt=True)
        validators = {"ETag": etag, "Last-Modified": modified}
        if request.header("If-None-Match") == etag or (
            request.header("If-None-Match") is None
            and request.header("If-Modified-Since") == modified
        ):
            return Reply(304, raw=b"", headers=validators, content_type=content_type)
        return Reply(200, raw=body, headers=validators, content_type=content_type)
