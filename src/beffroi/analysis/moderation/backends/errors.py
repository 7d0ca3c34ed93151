"""What a heavier backend raises; every message is meant for a person and never holds a secret.

The shape follows the connectors' errors (:mod:`beffroi.connectors.base`): one base class, one
subclass per thing the caller can do something about (fix the settings, wait, try later).
"""

from __future__ import annotations

import importlib
from types import ModuleType


class BackendError(Exception):
    """Base of every error a heavier moderation backend raises."""


class BackendConfigurationError(BackendError):
    """The backend's specification is invalid, or its model cannot be loaded."""


class BackendNotInstalled(BackendConfigurationError):
    """The backend needs an optional package (torch, transformers, detoxify) that is missing."""


class BackendAuthError(BackendError):
    """The moderation service refused the API key (missing, wrong or revoked)."""


class BackendQuotaExceeded(BackendError):
    """The moderation service says the account's quota is spent: waiting will not help."""


class BackendRateLimited(BackendError):
    """The service asked us to slow down; ``retry_after`` is in seconds when it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BackendTransientError(BackendError):
    """A network failure or a 5xx answer that outlasted the retries: try again later."""


class BackendRequestError(BackendError):
    """The service refused the request itself (4xx): unknown model, input too long…"""


class BackendMalformedResponse(BackendError):
    """The service answered something that is not what its documentation promises."""


def require(module: str, backend: str) -> ModuleType:
    """Import an optional package only when a backend that needs it is configured."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendNotInstalled(
            f"The {backend} moderation backend needs the Python package '{module}', which is "
            f"not installed: install beffroi[models] (pip install 'beffroi[models]')."
        ) from exc
