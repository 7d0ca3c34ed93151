from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import OperationalError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from beffroi.core.busy import is_database_locked

TOKEN_PREFIX = "bfr_"  # noqa: S105 (a public marker, not a secret)
#: ``last_used_at`` is this precise: a token used more often is not written on every call,
#: so that reading through the API does not write to the database.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user: object, name: str, expires_at: object = None) -> tuple[ApiToken, str]:
        """Create a token; the clear key is returned once and never stored."""
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, prefix=key[:12], key_hash=hash_token(key), expires_at=expires_at
        )
        return token, key

    @classmethod
    def authenticate(cls, key: str) -> ApiToken | None:
        token = cls.objects.select_related("user").filter(key_hash=hash_token(key)).first()
        if token is None or token.revoked or not token.user.is_active:
            return None
        if token.expires_at is not None and token.expires_at <= timezone.now():
            return None
        token.record_use()
        return token

    def record_use(self) -> None:
        """Note the time of use, at most once per :data:`LAST_USED_RESOLUTION`."""
        now = timezone.now()
        if self.last_used_at is not None and now - self.last_used_at < LAST_USED_RESOLUTION:
            return
        try:
            with transaction.atomic():
                ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
        except OperationalError as exc:
            if not is_database_locked(exc):
                raise
            # Bookkeeping only: a busy database must not refuse the call; a later call notes it.
            return
        self.last_used_at = now
