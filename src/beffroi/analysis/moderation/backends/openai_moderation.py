"""An OpenAI-compatible moderation endpoint (``POST /v1/moderations``) over httpx.

Request: ``{"model": ..., "input": [texts]}`` with ``Authorization: Bearer <key>``. Answer:
``{"id", "model", "results": [{"flagged", "categories": {name: bool},
"category_scores": {name: float}, "category_applied_input_types": {...}}]}``, one result
per input in order, with the categories ``hate``, ``hate/threatening``, ``harassment``,
``harassment/threatening``, ``self-harm``, ``self-harm/intent``, ``self-harm/instructions``,
``sexual``, ``sexual/minors``, ``violence``, ``violence/graphic``, ``illicit``,
``illicit/violent``. Errors come as ``{"error": {"message", "type", "param", "code"}}``.

A 429 is waited out once when the service's ``Retry-After`` is short (``max_wait``), else
raised as :class:`BackendRateLimited` with its delay; network failures and 5xx answers are
retried with exponential backoff, then raised as :class:`BackendTransientError`. The API key
is sent, never logged, and masked in any message the service echoes back. Connections are
checked by :mod:`beffroi.egress`: a server on this machine or its network (a local
OpenAI-compatible model server) must be listed in ``BEFFROI_ALLOWED_INTERNAL_HOSTS``.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from beffroi import egress
from beffroi.analysis.moderation.backends.errors import (
    BackendAuthError,
    BackendConfigurationError,
    BackendMalformedResponse,
    BackendQuotaExceeded,
    BackendRateLimited,
    BackendRequestError,
    BackendTransientError,
)
from beffroi.analysis.moderation.backends.labels import (
    LabelMap,
    mapping_digest,
    signals_from_scores,
    with_overrides,
)
from beffroi.analysis.moderation.signals import Signal
from beffroi.analysis.text_bound import analysed_text

log = logging.getLogger(__name__)

DEFAULT_MODEL = "omni-moderation-latest"
USER_AGENT = "beffroi-moderation/1"

#: OpenAI's categories → charter categories. The ``…/threatening`` ones also count as threats.
#: Left out by default, for want of a charter category that says the same thing: ``violence``
#: (depicting violence, as news does, is no threat), ``violence/graphic``, ``self-harm*``,
#: ``sexual*`` and ``illicit*``; ``map=`` adds them where an organization wants them.
OPENAI_CATEGORIES: Mapping[str, tuple[str, ...]] = {
    "hate": ("hate",),
    "hate/threatening": ("hate", "threat"),
    "harassment": ("harassment",),
    "harassment/threatening": ("harassment", "threat"),
}

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_SECRET_LIKE = re.compile(r"\b(sk|key)-[A-Za-z0-9_\-*.]{4,}")


def moderation_endpoint(base_url: str) -> str:
    """``https://api.openai.com`` or ``…/v1`` or ``…/v1/moderations`` → the full endpoint."""
    url = base_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise BackendConfigurationError(
            f"openai:{base_url}: the base URL must start with http:// or https://."
        )
    if url.endswith("/moderations"):
        return url
    if url.endswith("/v1"):
        return url + "/moderations"
    return url + "/v1/moderations"


def _duration(value: str) -> float | None:
    """OpenAI's ``x-ratelimit-reset-requests`` format: ``20ms``, ``1s``, ``6m0s``, ``1h2m``."""
    parts = _DURATION.findall(value.strip())
    if not parts or "".join(n + u for n, u in parts) != value.strip():
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(number) * scale[unit] for number, unit in parts)


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """How long the service asked us to wait: ``retry-after-ms``, ``retry-after`` (seconds or
    an HTTP date), else ``x-ratelimit-reset-requests``; None when it did not say."""
    lowered = {key.lower(): value for key, value in headers.items()}
    if "retry-after-ms" in lowered:
        try:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000)
        except ValueError:
            pass
    if "retry-after" in lowered:
        value = lowered["retry-after"].strip()
        try:
            seconds = float(value)
            if math.isfinite(seconds):
                return max(0.0, seconds)
        except ValueError:
            try:
                moment = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                moment = None
            if moment is not None:
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=UTC)
                return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())
    if "x-ratelimit-reset-requests" in lowered:
        return _duration(lowered["x-ratelimit-reset-requests"])
    return None


class OpenAIModerationDetector:
    """An OpenAI-compatible ``/v1/moderations`` endpoint as a :class:`Detector`."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str = DEFAULT_MODEL,
        api_key: str | None = None,
        label_map: Mapping[str, tuple[str, ...]] | None = None,
        batch_size: int = 32,
        timeout: float = 30.0,
        max_retries: int = 2,
        backoff: float = 0.5,
        max_wait: float = 10.0,
        min_score: float = 0.01,
        name: str | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.endpoint = moderation_endpoint(base_url)
        self.model = model
        self._api_key = api_key or None
        self.mapping: LabelMap = with_overrides(OPENAI_CATEGORIES, label_map)
        if not self.mapping:
            raise BackendConfigurationError(f"openai:{base_url}: map= leaves no category to score.")
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.min_score = min_score
        self.name = f"openai:{name or model}"
        self._digest = mapping_digest(self.mapping)
        # The model the service says it used (``omni-moderation-latest`` resolves to a dated
        # snapshot) replaces the configured name once it has answered.
        self.version = f"{model}+map.{self._digest}"
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=timeout,
            transport=transport or egress.guarded_transport(),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    def __repr__(self) -> str:
        # Never the key.
        return f"<OpenAIModerationDetector {self.name} at {self.endpoint}>"

    def close(self) -> None:
        self._client.close()

    def score(self, texts: Sequence[str]) -> list[list[Signal]]:
        signals: list[list[Signal]] = []
        texts = [analysed_text(text) for text in texts]
        for start in range(0, len(texts), self.batch_size):
            signals.extend(self._score_batch(texts[start : start + self.batch_size]))
        return signals

    # --- one request ---------------------------------------------------------------------

    def _score_batch(self, batch: list[str]) -> list[list[Signal]]:
        data = self._post({"model": self.model, "input": batch})
        model, results = self._parse(data, len(batch))
        self.version = f"{model}+map.{self._digest}"
        return [
            signals_from_scores(
                scores,
                self.mapping,
                detector=self.name,
                version=self.version,
                model=model,
                min_score=self.min_score,
                flagged=flags,
            )
            for scores, flags in results
        ]

    def _redact(self, message: str) -> str:
        if self._api_key:
            message = message.replace(self._api_key, "***")
        return _SECRET_LIKE.sub(r"\1-***", message)

    def _error(self, response: httpx.Response) -> tuple[str, str, str]:
        """The service's error ``message``, ``code`` and ``type`` (empty when it gave none)."""
        try:
            body = response.json()
        except ValueError:
            return self._redact(response.text[:200].strip()), "", ""
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return (
                self._redact(str(error.get("message") or "")),
                str(error.get("code") or ""),
                str(error.get("type") or ""),
            )
        if isinstance(error, str):  # some compatible servers answer {"error": "text"}
            return self._redact(error), "", ""
        return self._redact(response.text[:200].strip()), "", ""

    def _post(self, payload: dict[str, Any]) -> Any:
        headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
        attempt = 0
        waited_for_rate_limit = False
        while True:
            try:
                response = self._client.post(self.endpoint, json=payload, headers=headers)
            except httpx.HTTPError as exc:
                # The same words for an address refused by beffroi.egress and a failure.
                unreachable = f"{self.name}: {self.endpoint} {egress.UNREACHABLE}."
                if egress.is_blocked(exc):
                    raise BackendConfigurationError(unreachable) from exc
                if attempt < self.max_retries:
                    self._sleep(self.backoff * 2**attempt)
                    attempt += 1
                    continue
                raise BackendTransientError(unreachable) from exc
            status = response.status_code
            if status == 200:
                try:
                    return response.json()
                except ValueError:
                    raise BackendMalformedResponse(
                        f"{self.name}: {self.endpoint} answered 200 with something that is "
                        f"not JSON: {response.text[:120]!r}"
                    ) from None
            message, code, kind = self._error(response)
            if status in (401, 403):
                raise BackendAuthError(
                    f"{self.name}: the moderation service refused the API key ({status}: "
                    f"{message or code or 'no reason given'}); check BEFFROI_OPENAI_API_KEY."
                )
            if status == 429:
                if "insufficient_quota" in (code, kind):
                    raise BackendQuotaExceeded(
                        f"{self.name}: the account's quota is spent ({message})."
                    )
                retry_after = retry_after_seconds(response.headers)
                if not waited_for_rate_limit and (retry_after or 0.0) <= self.max_wait:
                    waited_for_rate_limit = True
                    self._sleep(retry_after if retry_after is not None else self.backoff)
                    continue
                raise BackendRateLimited(
                    f"{self.name}: the moderation service asks to slow down ({message}).",
                    retry_after,
                )
            if status >= 500 or status == 408:
                if attempt < self.max_retries:
                    self._sleep(self.backoff * 2**attempt)
                    attempt += 1
                    continue
                raise BackendTransientError(
                    f"{self.name}: the moderation service failed ({status}: "
                    f"{message or 'no reason given'}) after {attempt + 1} attempt(s)."
                )
            raise BackendRequestError(
                f"{self.name}: the moderation service refused the request ({status}"
                f"{', ' + code if code else ''}: {message or 'no reason given'})."
            )

    def _parse(
        self, data: Any, expected: int
    ) -> tuple[str, list[tuple[dict[str, float], dict[str, bool]]]]:
        def malformed(why: str) -> BackendMalformedResponse:
            return BackendMalformedResponse(f"{self.name}: {self.endpoint} answered {why}.")

        if not isinstance(data, dict):
            raise malformed("JSON that is not an object")
        results = data.get("results")
        if not isinstance(results, list) or len(results) != expected:
            count = len(results) if isinstance(results, list) else "no"
            raise malformed(f"{count} results for {expected} texts")
        model = data.get("model")
        parsed = []
        for position, result in enumerate(results):
            scores = result.get("category_scores") if isinstance(result, dict) else None
            if not isinstance(scores, dict):
                raise malformed(f"a result without category_scores (text {position})")
            clean: dict[str, float] = {}
            for label, value in scores.items():
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise malformed(f"a score that is not a number ({label}: {value!r})")
                if not 0.0 <= float(value) <= 1.0:
                    raise malformed(f"a score outside [0, 1] ({label}: {value!r})")
                clean[str(label)] = float(value)
            flags = result.get("categories") or {}
            if not isinstance(flags, dict):
                raise malformed(f"categories that are not an object (text {position})")
            parsed.append((clean, {str(k): v is True for k, v in flags.items()}))
        return (model if isinstance(model, str) and model else self.model), parsed
