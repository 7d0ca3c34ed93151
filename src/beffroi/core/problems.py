"""Answers to the API's clients in the shape of RFC 9457 ("problem details"), for the refusals
made before a router runs (a busy database, a body too large)."""

from __future__ import annotations

from django.http import JsonResponse


def problem_response(status: int, title: str, detail: str) -> JsonResponse:
    """``application/problem+json`` with its title, status and a sentence."""
    return JsonResponse(
        {"title": title, "status": status, "detail": detail},
        status=status,
        content_type="application/problem+json",
    )
