"""Reading request bodies and query strings: NUL characters are refused.

PostgreSQL can neither store nor compare text holding a NUL character (``\\u0000``): let
through, one would reach the database and answer 500. A query string holding one is refused
with 422, in django-ninja's shape; a body holding one cannot be read (400, as malformed JSON).
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from ninja.errors import ValidationError
from ninja.parser import Parser

NUL = "\x00"


def holds_nul(value: Any) -> bool:
    """Whether a decoded JSON value holds a NUL character, in a key or a string."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(holds_nul(item) for item in value)
    return False


class NulRefusingParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        data = json.loads(request.body)
        if holds_nul(data):
            raise ValueError("The body holds a NUL character (\\u0000).")
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        refused = [
            {
                "type": "value_error",
                "loc": ["query", key],
                "msg": "Value error, a NUL character (\\u0000) is not allowed.",
            }
            for key in data
            if holds_nul(key) or any(holds_nul(value) for value in data.getlist(key))
        ]
        if refused:
            raise ValidationError(refused)
        return super().parse_querydict(data, list_fields, request)
