"""Reading request bodies and query strings: what no database stores is refused.

PostgreSQL can neither store nor compare text holding a NUL character (``\\u0000``), and no
database stores half of a UTF-16 surrogate pair (``\\ud800`` in JSON): let through, one would
reach the database and answer 500. The imports' own check (:func:`check_json`) decides. A
query string holding one is refused with 422, in django-ninja's shape; a body holding one (or
nested deeper than the imports allow) cannot be read (400, as malformed JSON).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.errors import ValidationError
from ninja.parser import Parser

from beffroi.connectors.fileimport import UnstorableJSON, check_json, check_text


class NulRefusingParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        data = json.loads(request.body)
        try:
            check_json(data, noun="body field")
        except UnstorableJSON as exc:
            raise ValueError(f"The body cannot be stored: {exc}") from None
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        refused = []
        for key in data:
            try:
                check_text(key, "its name")
                for value in data.getlist(key):
                    check_text(value, "the value")
            except UnstorableJSON as exc:
                refused.append(
                    {"type": "value_error", "loc": ["query", key], "msg": f"Value error, {exc}."}
                )
        if refused:
            raise ValidationError(refused)
        return super().parse_querydict(data, list_fields, request)
