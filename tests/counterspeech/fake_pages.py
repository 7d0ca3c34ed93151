"""A web site on the loopback: the pages a counter-speech entry cites as its sources.

It answers as an ordinary web server does: 200 with the page's HTML, 404 with a short HTML
body for a page it does not have, 301 with a ``Location`` for a page that moved.
"""

from __future__ import annotations

from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply

HTML = "text/html; charset=utf-8"


class PagesServer(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.pages: dict[str, bytes] = {}
        self.moved: dict[str, str] = {}

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def handle(self, request: RecordedRequest) -> Reply:
        if request.path in self.moved:
            return Reply(
                301, raw=b"", headers={"Location": self.moved[request.path]}, content_type=HTML
            )
        body = self.pages.get(request.path)
        if body is None:
            return Reply(404, raw=b"<h1>Not Found</h1>", content_type=HTML)
        return Reply(200, raw=body, content_type=HTML)
