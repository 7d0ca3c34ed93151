"""Django settings: everything comes from the environment through ``beffroi.config``."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from beffroi import config, egress

# `forms.ModelForm[Model]`, `admin.ModelAdmin[Model]`: the type arguments django-stubs knows,
# accepted at run time too (Django's own classes take none).
django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = config.home()

SECRET_KEY = config.secret_key()
DEBUG = config.debug()
ALLOWED_HOSTS = [
    h for h in os.environ.get("BEFFROI_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("BEFFROI_CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_htmx",
    "django_filters",
    "ninja",
    "beffroi.core",
    "beffroi.organizations",
    "beffroi.accounts",
    "beffroi.sources",
    "beffroi.items",
    "beffroi.moderation",
    "beffroi.charter",
    "beffroi.veille",
    "beffroi.conversations",
    "beffroi.publishing",
    "beffroi.counterspeech",
    "beffroi.briefs",
    "beffroi.overview",
    "beffroi.audit",
    "beffroi.jobs",
    "beffroi.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session: its save waits briefly too, and a locked database answers 503.
    "beffroi.core.busy.BusyDatabaseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "beffroi.accounts.middleware.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "beffroi.web.urls"
WSGI_APPLICATION = "beffroi.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "beffroi.organizations.context_processors.organizations",
                # The crisis pause's banner, on every page of a paused organization.
                "beffroi.publishing.context_processors.pause_banner",
            ],
        },
    },
]


PERSISTENT_CONNECTION_SECONDS = 60


def _database() -> dict[str, object]:
    db = dj_database_url.parse(config.database_url(), conn_max_age=0)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets the web process read while background work writes; IMMEDIATE
        # transactions avoid "database is locked" upgrades from read to write locks.
        db["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
            " PRAGMA busy_timeout=20000; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        # A file, not the in-memory default, so background threads and subprocesses of
        # the tests see the same database with real SQLite locking.
        db["TEST"] = {"NAME": str(DATA_DIR / "test_beffroi.sqlite3")}
    else:
        # A server database: connections are kept for a minute, so that a worker running
        # job after job (a platform action per hidden comment) does not open one per job;
        # checked before reuse, so one broken by a database restart is replaced.
        db["CONN_MAX_AGE"] = PERSISTENT_CONNECTION_SECONDS
        db["CONN_HEALTH_CHECKS"] = True
    return dict(db)


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _cache() -> dict[str, object]:
    # Shared by every process (the login throttle must survive a restart and be the same
    # for each web process): Redis when there is one, else a table of the database, made
    # by the accounts migrations (accounts/migrations/0002_cache_table.py).
    url = config.cache_url()
    if url:
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "beffroi",
        }
    return {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": config.CACHE_TABLE,
        # Django deletes a third of the entries past MAX_ENTRIES: a login attempt for each
        # of many made-up names must not push the real accounts' failure counts out.
        "OPTIONS": {"MAX_ENTRIES": 1_000_000},
    }


CACHES = {"default": _cache()}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("BEFFROI_TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
# The package's own CSS, JavaScript and vendored htmx (not inside an app).
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from the finders; `collectstatic` is optional
# The publishing desk's media library (served to members by an organization-scoped view,
# never as public static files).
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if config.flag("BEFFROI_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = config.hsts_seconds()
# Behind a reverse proxy that ends TLS, Beffroi sees plain HTTP: the proxy's
# X-Forwarded-Proto says whether the browser used HTTPS. Only trust it when a proxy that
# overwrites the header stands in front (docs/deployment.md).
if config.flag("BEFFROI_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Off by default: the proxy usually redirects to HTTPS itself, and without the forwarded
# scheme every request would look like HTTP and be redirected forever.
SECURE_SSL_REDIRECT = config.flag("BEFFROI_SSL_REDIRECT")
if SECURE_SSL_REDIRECT and not config.flag("BEFFROI_BEHIND_PROXY"):
    raise ImproperlyConfigured(
        "BEFFROI_SSL_REDIRECT=1 needs BEFFROI_BEHIND_PROXY=1: Beffroi serves plain HTTP behind "
        "the proxy that ends TLS, and can only tell HTTPS requests by X-Forwarded-Proto."
    )
# The proxy's health checks and the monitoring's scrapes may use plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
# Content-Security-Policy (django-csp): scripts, styles and the rest from this server only,
# no inline script or style and no eval, so that stored text or addresses that slipped
# past escaping still cannot run. data: images are the icons of Swagger UI's stylesheet.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

OTP_TOTP_ISSUER = "Beffroi"

# Uploads are validated by the import code; this caps what reaches it. The outermost WSGI
# layer (web/request_limits.py) refuses bodies over MAX_REQUEST_BYTES before Django reads
# them, except on the media library's upload address (MAX_MEDIA_REQUEST_BYTES, also
# waitress's own limit in `beffroi serve`); the upload views answer a translated 413 page
# above their own limit. Fields other than files are read into memory, up to the ordinary
# limit. A file over FILE_UPLOAD_MAX_MEMORY_SIZE (Django's default, 2.5 MB) is written to a
# temporary file as it arrives, so a video of hundreds of megabytes never sits in memory:
# in one folder, deleted when the request ends and swept at start (core/uploads.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = config.MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_TEMP_DIR = str(config.upload_dir())

BEFFROI_BROKER_URL = config.broker_url()
BEFFROI_SMTP = config.smtp()
BEFFROI_PUBLIC_URL = config.public_url()
# beffroi.egress reads BEFFROI_ALLOWED_INTERNAL_HOSTS at each connection; reading it here too
# stops the start on a value it cannot understand, instead of at the first fetch.
try:
    egress.policy()
except egress.EgressConfigurationError as exc:
    raise ImproperlyConfigured(str(exc)) from exc

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "beffroi.core.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("BEFFROI_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        # fontTools logs each table it prunes while fpdf2 subsets a font for a PDF dossier,
        # at INFO: dozens of lines per dossier.
        "fontTools.subset": {"level": "WARNING"},
    },
}
