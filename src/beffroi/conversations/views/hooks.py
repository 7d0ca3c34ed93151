"""What a webhook request system says back about the requests it was handed (no login: the
Standard Webhooks signature made with the system's secret authenticates the call)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from beffroi.accounts.throttle import client_address
from beffroi.conversations import handoff

#: A status message is a few hundred bytes; anything much larger is not one.
MAX_BODY = 64 * 1024


@csrf_exempt  # the receiving system holds no CSRF token: the signature authenticates it
@require_POST
def request_status(request: HttpRequest, system_id: int) -> JsonResponse:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return JsonResponse({"error": "Content-Length is not a number."}, status=400)
    if length > MAX_BODY:
        return JsonResponse({"error": "Too large."}, status=413)
    answer = handoff.receive_status(
        system_id, request.headers, request.body, client_address(request)
    )
    response = JsonResponse(answer.body, status=answer.status)
    if answer.retry_after is not None:
        response["Retry-After"] = str(answer.retry_after)
    return response
