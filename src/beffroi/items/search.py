"""Searching items with the watches' query language, run by the database.

What a person types in the inbox's search box (or the API's ``q``) is parsed by
:mod:`beffroi.analysis.watch_query`, the language of the watches: one grammar for the whole
product (words, ``"phrases"``, ``OR``, ``-exclusions``, ``#hashtags``, ``from:``, ``lang:``,
``platform:``, ``domain:``, ``eau*``). :func:`search_q` turns the parsed query into a Django
``Q`` over :attr:`Item.search_text <beffroi.items.models.Item.search_text>`, a copy of the
item's words normalised as the query language compares them, kept with the item:

    " l eau du robinet est contaminee | #eau | alice alice example org @alice@example.org
    @alice@ | domain:eaux.example.org domain:example.org "

that is the words of the text as read (quoted post included), then the hashtags, then the
words of the author's name and handle with the handle as ``from:`` reads it, then the
domains linked to, each section apart so that a phrase never runs from one into the next.
A word is then a ``LIKE '% word %'``, a phrase ``'% w1 w2 %'``, a wildcard ``'% eau%'``:
accent- and case-insensitive and by whole words on SQLite and PostgreSQL alike. It is a
scan, as the substring search before it was: counting the items with two given words among
100,000 of ``beffroi bench``'s synthetic comments took about 80 ms on SQLite (warm cache).

The inbox also looks for words and phrases in the author's name and handle, as its search
always did ("alice" lists what Alice wrote); a watch looks in the text only. ``lang:`` and
``platform:`` compare the item's columns.

``search_text`` is written by :func:`item_search_text` on every path that stores items:
ingestion (``bulk_create`` sends no signal), any other ``save()`` (a ``pre_save`` receiver),
an author renamed (a ``post_save`` receiver rewrites its items), and the migration that added
the column (:func:`backfill_search_text`).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from functools import reduce
from typing import Any

from django.db import models
from django.db.models import Q
from django.db.models.signals import post_save, pre_save
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from beffroi.analysis.watch_query import (
    AndNode,
    AuthorTerm,
    DomainTerm,
    HashtagTerm,
    LanguageTerm,
    Node,
    NotNode,
    OrNode,
    PlatformTerm,
    Query,
    TextTerm,
    WatchDocument,
    WatchQueryError,
    parse,
    tokenize,
)
from beffroi.items.models import Author, Item

__all__ = [
    "QUERY_ERRORS",
    "SearchQueryError",
    "backfill_search_text",
    "connect_signals",
    "item_search_text",
    "parse_search",
    "query_error_message",
    "search_q",
    "search_text_of",
]

#: Marks the end of a section of ``search_text``: never a word, so no phrase runs across it.
SECTION = "|"

#: The query language's error messages (``beffroi.analysis.watch_query.ERROR_CODES``),
#: translated; the same strings as the watch form's.
QUERY_ERRORS: dict[str, Any] = {
    "empty_query": _("The query is empty."),
    "too_long": _("The query is too long (at most %(limit)s characters)."),
    "too_complex": _("The query is nested too deeply (at most %(limit)s levels)."),
    "unclosed_quote": _("This quote is never closed."),
    "empty_quotes": _("These quotes contain nothing."),
    "unclosed_paren": _("This parenthesis is never closed."),
    "unexpected_paren": _("This closing parenthesis has no opening one."),
    "empty_parens": _("These parentheses contain nothing."),
    "missing_term_after": _("Expected a word or phrase after “%(operator)s”."),
    "missing_term_before": _("Expected a word or phrase before “%(operator)s”."),
    "empty_value": _("Expected a value after “%(field)s”."),
    "invalid_value": _("“%(value)s” is not a valid value for “%(field)s”."),
    "unknown_field": _(
        "Unknown filter “%(field)s”: use from:, lang:, platform: or domain:, or quotes."
    ),
    "no_words": _("“%(value)s” contains no word to look for."),
    "bad_wildcard": _("The wildcard * only goes at the end of a word."),
    "wildcard_too_short": _("Put at least %(limit)s letters before the wildcard *."),
    "only_exclusions": _("Add something to look for: exclusions alone would match everything."),
}


def query_error_message(error: WatchQueryError) -> str:
    """The error in the reader's language, with where it is."""
    template = QUERY_ERRORS.get(error.code)
    message = str(template) % error.params if template is not None else error.message
    return gettext("%(message)s (at character %(position)s)") % {
        "message": message,
        "position": error.position + 1,
    }


class SearchQueryError(ValueError):
    """A search that cannot be parsed; ``message`` is in the reader's language."""

    def __init__(self, error: WatchQueryError) -> None:
        self.error = error
        self.message = query_error_message(error)
        super().__init__(self.message)


# --- the stored words ---------------------------------------------------------------------


def _handle_tokens(handle: str) -> tuple[str, ...]:
    """The handle as ``from:`` compares it (casefolded, no leading ``@``), then its account
    name followed by ``@``: ``from:alice`` is alice on any instance, one ``LIKE``."""
    folded = "".join(handle.split()).casefold().lstrip("@")
    if not folded:
        return ()
    return ("@" + folded, "@" + folded.split("@", 1)[0] + "@")


def _domains(host: str) -> list[str]:
    """``host`` and the domains above it that ``domain:`` may name (at least one dot)."""
    labels = host.removeprefix("www.").split(".")
    return [".".join(labels[index:]) for index in range(len(labels) - 1)]


def search_text_of(
    text: str, *, author_handle: str = "", author_name: str = "", urls: Sequence[str] = ()
) -> str:
    """``Item.search_text`` for an item whose text as read is ``text``."""
    prepared = WatchDocument(text=text, urls=urls).prepared()
    author_words = tokenize(author_name) + tokenize(author_handle)
    sections = (
        prepared.tokens,
        sorted("#" + tag for tag in prepared.hashtags),
        author_words + _handle_tokens(author_handle),
        sorted({f"domain:{domain}" for host in prepared.hosts for domain in _domains(host)}),
    )
    return " " + f" {SECTION} ".join(" ".join(section) for section in sections) + " "


def _links(urls: object) -> tuple[str, ...]:
    return tuple(url for url in urls if isinstance(url, str)) if isinstance(urls, list) else ()


def item_search_text(item: Item) -> str:
    """``search_text`` for ``item`` as it is now (its author loaded if it was not)."""
    author = item.author
    return search_text_of(
        item.text_as_read,
        author_handle=author.handle,
        author_name=author.display_name,
        urls=_links(item.urls),
    )


def backfill_search_text(item_model: type[models.Model], batch_size: int = 1000) -> int:
    """Write ``search_text`` on every row of ``item_model`` (the current ``Item`` or the
    migrations' historical one), by batches of primary keys; returns the rows written."""
    manager = item_model._default_manager
    written, last = 0, 0
    while True:
        rows = list(
            manager.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "text", "quoted", "urls", "author__handle", "author__display_name")[
                :batch_size
            ]
        )
        if not rows:
            return written
        changed = []
        for pk, text, quoted, urls, handle, name in rows:
            # The current model only reads the text as read: one definition of it.
            as_read = Item(text=text, quoted=quoted or {}).text_as_read
            row = item_model(pk=pk)
            row.search_text = search_text_of(  # type: ignore[attr-defined]
                as_read, author_handle=handle, author_name=name, urls=_links(urls)
            )
            changed.append(row)
        manager.bulk_update(changed, ["search_text"])
        written += len(changed)
        last = rows[-1][0]


def _refresh_author_items(author: Author, batch_size: int = 1000) -> None:
    items = Item.objects.filter(author=author).only("pk", "text", "quoted", "urls")
    batch: list[Item] = []
    for item in items.iterator(chunk_size=batch_size):
        item.author = author
        item.search_text = item_search_text(item)
        batch.append(item)
        if len(batch) >= batch_size:
            Item.objects.bulk_update(batch, ["search_text"])
            batch = []
    Item.objects.bulk_update(batch, ["search_text"])


def _item_saving(
    sender: type[Item], instance: Item, raw: bool, update_fields: Iterable[str] | None, **_: Any
) -> None:
    # A save naming its fields writes search_text only when it names it too.
    if raw or (update_fields is not None and "search_text" not in update_fields):
        return
    instance.search_text = item_search_text(instance)


def _author_saved(
    sender: type[Author], instance: Author, created: bool, raw: bool = False, **_: Any
) -> None:
    # Ingestion never saves an author twice; an administrator renaming one does.
    if not created and not raw:
        _refresh_author_items(instance)


def connect_signals() -> None:
    """Keep ``search_text`` written when items are saved one by one and authors renamed
    (called by the app's ``ready()``; ingestion writes it itself)."""
    pre_save.connect(_item_saving, sender=Item, dispatch_uid="items.search_text")
    post_save.connect(_author_saved, sender=Author, dispatch_uid="items.search_text.author")


# --- the query ----------------------------------------------------------------------------


def _contains(needle: str) -> Q:
    return Q(search_text__contains=needle)


def _q(node: Node) -> Q:
    if isinstance(node, TextTerm):
        return _contains(" " + " ".join(node.words) + ("" if node.prefix else " "))
    if isinstance(node, HashtagTerm):
        return _contains(" #" + node.tag + ("" if node.prefix else " "))
    if isinstance(node, AuthorTerm):
        # from:alice is alice on any instance (the "@alice@" token); from:alice@piaille.fr
        # only that account.
        handle = node.handle if "@" in node.handle else node.handle + "@"
        return _contains(f" @{handle} ")
    if isinstance(node, LanguageTerm):
        code = node.code
        return (
            Q(language__iexact=code)
            | Q(language__istartswith=code + "-")
            | Q(language__istartswith=code + "_")
        )
    if isinstance(node, PlatformTerm):
        return Q(platform__iexact=node.name)
    if isinstance(node, DomainTerm):
        # A link to www.eaux.example.org is stored as eaux.example.org and example.org too.
        return _contains(f" domain:{node.domain} ")
    if isinstance(node, NotNode):
        return ~_q(node.child)
    # The cheap conditions first (the columns before the words), as the matcher tries them.
    if isinstance(node, AndNode):
        return reduce(operator.and_, map(_q, node.ordered))
    if isinstance(node, OrNode):
        return reduce(operator.or_, map(_q, node.ordered))
    raise TypeError(f"no translation for {type(node).__name__}")


def parse_search(query: str) -> Query:
    """``query`` parsed; raises :class:`SearchQueryError` (translated) on a mistake."""
    try:
        return parse(query.strip())
    except WatchQueryError as error:
        raise SearchQueryError(error) from error


def search_q(query: str) -> Q:
    """The condition on items that ``query`` (the watches' language) stands for; raises
    :class:`SearchQueryError`, whose ``message`` is translated, when it cannot be read."""
    return _q(parse_search(query).root)
