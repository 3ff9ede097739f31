"""Settings, all from the environment (12-factor); see the README's table."""
import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# `make run` writes development settings to .env; production (`make serve`, gunicorn.conf.py) sets
# DOTENV_FILE empty so that file is never picked up there. The environment overrides the file.
DOTENV_FILE = os.environ.get("DOTENV_FILE", str(BASE_DIR / ".env"))
if DOTENV_FILE:
    environ.Env.read_env(DOTENV_FILE, overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Outside DEBUG a missing key is a configuration error, never a silent default.
_DEV_KEY = "rivergen-insecure-development-key-do-not-use-in-production"
SECRET_KEY = env("SECRET_KEY", default=_DEV_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY (and CRYPTOGRAPHY_KEY) in the environment.")
# django-cryptography derives its AES key from this and signs with SECRET_KEY.
CRYPTOGRAPHY_KEY = env("CRYPTOGRAPHY_KEY", default=SECRET_KEY)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "axes",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc assets served locally: the docs work offline
    "accounts",
    "datasources",
]

MIDDLEWARE = [
    "rivergen.middleware.RequestIdMiddleware",  # first: every response, errors too, echoes the id
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "rivergen.middleware.RefuseNulQueryMiddleware",
    "rivergen.middleware.ApiErrorEnvelopeMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "rivergen.health.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "rivergen.urls"
WSGI_APPLICATION = "rivergen.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent writers queue on the lock instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env(
        "SQLITE_TEST_NAME", default=str(BASE_DIR / ".local" / "test.sqlite3")
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.int("DATABASE_POOL_MAX", default=10):
    # psycopg's pool: each process keeps up to DATABASE_POOL_MAX connections, and a request
    # waits DATABASE_POOL_TIMEOUT seconds for one before it gets 503 with Retry-After.
    # Size it so that processes x DATABASE_POOL_MAX stays under the server's max_connections.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=10),
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=5.0),
        # After an outage the pool retries with a growing delay; giving up after this many
        # seconds starts a fresh attempt (delay 1 s) on the next request, so recovery is quick.
        "reconnect_timeout": env.float("DATABASE_POOL_RECONNECT_TIMEOUT", default=10.0),
    }
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # a connection the server dropped is replaced
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / ".local" / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start without it
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Served by WhiteNoise from STATIC_ROOT after `manage.py collectstatic` (make serve runs it).
    "staticfiles": {"BACKEND": env(
        "STATICFILES_BACKEND", default="django.contrib.staticfiles.storage.StaticFilesStorage"
    )},
}
# Uploads for file sources; larger files are refused with 413.
STORAGE_MAX_UPLOAD_BYTES = env.int("STORAGE_MAX_UPLOAD_BYTES", default=100 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("API_MAX_BODY_BYTES", default=1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "accounts.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "rivergen.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",
    "UNAUTHENTICATED_USER": None,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_ACCESS_TTL", default=3600)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("JWT_REFRESH_TTL", default=7 * 86400)),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "RiverGen data sources API",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["rivergen.openapi.strip_trailing_slash"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums", "rivergen.openapi.wrap_in_envelope",
        "datasources.api.bundles.close_bundle_schemas",
    ],
    "ENUM_NAME_OVERRIDES": {
        "DataSourceTypeEnum": "datasources.connectors.TYPE_CHOICES",
        "DataSourceStatusEnum": "datasources.models.sources.Status",
        "DiscoveryStatusEnum": "datasources.models.catalogue.Discovery.Status",
        "HealthCheckStatusEnum": "datasources.models.health.HealthCheck.Status",
        "WebhookDeliveryStatusEnum": "datasources.models.webhooks.WebhookDelivery.Status",
        "AuditActionEnum": "accounts.audit.ACTIONS",
        "AuditActorTypeEnum": "accounts.audit.ACTOR_TYPES",
        "AuditTargetTypeEnum": "accounts.audit.TARGET_TYPES",
        "AuditViaEnum": "rivergen.request_context.VIA",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # botocore's DEBUG records quote the signed request, AWS session token included; keep them
    # out even when LOG_LEVEL=DEBUG.
    "loggers": {"botocore": {"level": "INFO"}},
}

# --- Background jobs (Celery) -------------------------------------------------------------
# With no broker configured, kombu's SQLAlchemy transport keeps the queue in a local SQLite
# file, so nothing has to be installed; production sets CELERY_BROKER_URL to RabbitMQ
# (amqp://user:password@host:5672/vhost) or Redis (redis://host:6379/0). Queues and routes: rivergen/celery.py.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
if not CELERY_BROKER_URL:
    (BASE_DIR / ".local").mkdir(exist_ok=True)  # SQLite cannot create the file's folder
    CELERY_BROKER_URL = f"sqla+sqlite:///{BASE_DIR / '.local' / 'celery.sqlite3'}"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)  # run jobs inline
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a job a dying worker held is delivered again (discovery runs are idempotent)
# Redis hands an unacknowledged job (its worker was killed) to another worker after this many
# seconds; RabbitMQ does at once, when the dead worker's connection drops. Longer than a discovery
# may run (connection_timeout + query_timeout) avoids needless redeliveries; they are harmless.
if CELERY_BROKER_URL.startswith(("redis", "rediss", "sentinel")):  # the SQLAlchemy transport refuses the option
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "refresh-due-schemas": {
        "task": "datasources.tasks.refresh_due_schemas",
        "schedule": env.int("SCHEMA_REFRESH_CHECK_SECONDS", default=60),
    },
}
CELERY_BEAT_SCHEDULE.update({
    "schedule-health-checks": {
        "task": "datasources.tasks.schedule_health_checks",
        "schedule": env.int("HEALTH_CHECK_TICK_SECONDS", default=10),
    },
    "prune-health-checks": {"task": "datasources.tasks.prune_health_checks", "schedule": 3600},
    "retry-webhook-deliveries": {
        "task": "datasources.tasks.retry_webhook_deliveries",
        "schedule": env.int("WEBHOOK_RETRY_SWEEP_SECONDS", default=15),
    },
})
# --- Health history and scheduled checks ---
# Default interval of a new source's scheduled connection test (seconds; 0 = off; else 30-86400).
HEALTH_CHECK_INTERVAL_SECONDS = env.int("HEALTH_CHECK_INTERVAL_SECONDS", default=300)
# A source's server certificate this close to expiry shows on its health and is announced once
# (webhook data_source.certificate_expiring).
TLS_CERTIFICATE_WARNING_DAYS = env.int("TLS_CERTIFICATE_WARNING_DAYS", default=21)
# Connection tests one round (one worker process) runs at once, in threads.
HEALTH_CHECK_CONCURRENCY = env.int("HEALTH_CHECK_CONCURRENCY", default=200)
HEALTH_CHECK_RETENTION_DAYS = env.int("HEALTH_CHECK_RETENTION_DAYS", default=30)
# --- Webhooks: one POST per attempt; failures retried after these delays (about an hour in all) ---
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_RETRY_DELAYS = env.list("WEBHOOK_RETRY_DELAYS", cast=int, default=[30, 120, 300, 900, 2400])
# A source created with schema_auto_refresh gets a test and a discovery queued after commit.
DATASOURCES_CHECK_NEW_SOURCES = env.bool("DATASOURCES_CHECK_NEW_SOURCES", default=True)

# --- Keys, write throttling and the JSON body limit: what keeps stored secrets readable and the API fair ---
# The keys values were encrypted under before the last change of SECRET_KEY /
# CRYPTOGRAPHY_KEY: still readable, and re-encrypted by `manage.py rotate_encryption_keys`.
OLD_SECRET_KEY = env("OLD_SECRET_KEY", default="") or None
OLD_CRYPTOGRAPHY_KEY = env("OLD_CRYPTOGRAPHY_KEY", default="") or None
# Each user's writes (POST/PUT/PATCH/DELETE) per period: "N/second|minute|hour|day"; empty disables.
API_WRITE_THROTTLE_RATE = env("API_WRITE_THROTTLE_RATE", default="120/minute")
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["rivergen.api.WriteRateThrottle"]
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = ["rivergen.api.SizeLimitedJSONParser"]
# Throttle counters live in the cache: point CACHE_URL at Redis (redis://host:6379/1) when
# several processes serve the API, so that they share one count.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Connector destinations: keeps sources from reaching internal hosts and cloud metadata (SSRF) ---
# Which addresses connectors may open sockets to, checked after DNS resolution:
# "open" refuses only link-local and cloud-metadata addresses, "private" also loopback,
# "public" every non-global address (multi-tenant hosting).
DATASOURCES_NETWORK_POLICY = env("DATASOURCES_NETWORK_POLICY", default="open" if DEBUG else "private")
if DATASOURCES_NETWORK_POLICY not in ("open", "private", "public"):
    raise ImproperlyConfigured("DATASOURCES_NETWORK_POLICY must be open, private or public.")

# --- File sources: table archives are unzipped under these limits; flat files are sampled ---
DATASOURCES_ARCHIVE_MAX_MEMBERS = env.int("DATASOURCES_ARCHIVE_MAX_MEMBERS", default=10_000)
DATASOURCES_ARCHIVE_MAX_BYTES = env.int("DATASOURCES_ARCHIVE_MAX_BYTES", default=2 * 1024**3)
DATASOURCES_ARCHIVE_MAX_RATIO = env.int("DATASOURCES_ARCHIVE_MAX_RATIO", default=200)
DATASOURCES_ARCHIVE_TEMP_DIR = env("DATASOURCES_ARCHIVE_TEMP_DIR", default=None)
DATASOURCES_FILE_SAMPLE_BYTES = env.int("DATASOURCES_FILE_SAMPLE_BYTES", default=4 * 1024 * 1024)
DATASOURCES_FILE_SAMPLE_ROWS = env.int("DATASOURCES_FILE_SAMPLE_ROWS", default=1000)

# --- Behind a TLS proxy (production): see the README's "Production" section ---
# The proxy terminates TLS and sets X-Forwarded-Proto; only then may Django trust it.
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
# Paths a plain-HTTP load balancer probes must not be redirected to https.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)

# --- Outages: a database or broker that cannot be reached is a 503 with this Retry-After ---
SERVICE_UNAVAILABLE_RETRY_AFTER = env.int("SERVICE_UNAVAILABLE_RETRY_AFTER", default=5)
# /readyz gives each dependency this long to answer.
READINESS_TIMEOUT = env.float("READINESS_TIMEOUT", default=2.0)

# --- Login throttling (django-axes) for POST /api/v1/auth/token and /admin/login/ ---
# After AXES_FAILURE_LIMIT failed logins for one username, or from one client address, further
# attempts get 429 with Retry-After for AXES_COOLOFF_MINUTES (a success resets the count).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PersonBackend",  # ModelBackend, refusing API keys' service identities
]
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("AXES_COOLOFF_MINUTES", default=15))
# Either one locks: per username, per address (a wrong API key counts for its address only).
AXES_LOCKOUT_PARAMETERS = "rivergen.throttling.lockout_parameters"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # failures are counted; successful logins are not written down
AXES_LOCKOUT_CALLABLE = "rivergen.throttling.lockout_response"
AXES_VERBOSE = False
# Behind N proxies (LOGIN_THROTTLE_PROXY_COUNT=N), the client address is the one the outermost proxy
# appended to X-Forwarded-For; with 0, REMOTE_ADDR. Never trust the header without a proxy.
LOGIN_THROTTLE_PROXY_COUNT = env.int("LOGIN_THROTTLE_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "rivergen.throttling.client_address"

# --- Idempotency-Key: how long a stored answer is replayed, and the key kept from other bodies ---
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)

# --- Connection tests: how many may run at once, so that a few editors cannot tie up the workers ---
DATASOURCES_TESTS_PER_USER = env.int("DATASOURCES_TESTS_PER_USER", default=4)
DATASOURCES_TESTS_PER_PROCESS = env.int("DATASOURCES_TESTS_PER_PROCESS", default=16)
DATASOURCES_TESTS_PER_ORGANIZATION = env.int("DATASOURCES_TESTS_PER_ORGANIZATION", default=32)

# --- Audit log: events older than this are deleted by a periodic task (the only delete allowed) ---
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)
CELERY_BEAT_SCHEDULE["prune-audit-events"] = {"task": "accounts.tasks.prune_audit_events", "schedule": 86400}

# Secret references ({"secret_ref": "<provider>:<reference>"} in credentials; datasources.security.secret_refs).
# Each provider is off unless listed; every reference is confined to its organization's namespace.
SECRET_REFERENCE_PROVIDERS = env.list("SECRET_REFERENCE_PROVIDERS", default=[])  # env, file, aws-sm
SECRET_REFERENCE_ENV_PREFIX = env("SECRET_REFERENCE_ENV_PREFIX", default="")  # no default: env stays off
SECRET_REFERENCE_FILE_ROOT = env("SECRET_REFERENCE_FILE_ROOT", default="")
SECRET_REFERENCE_AWS_PREFIX = env("SECRET_REFERENCE_AWS_PREFIX", default="rivergen")
SECRET_REFERENCE_AWS_ENDPOINT_URL = env("SECRET_REFERENCE_AWS_ENDPOINT_URL", default="")
SECRET_REFERENCE_AWS_REGION = env("SECRET_REFERENCE_AWS_REGION", default="us-east-1")
SECRET_REFERENCE_AWS_ACCESS_KEY_ID = env("SECRET_REFERENCE_AWS_ACCESS_KEY_ID", default="")
SECRET_REFERENCE_AWS_SECRET_ACCESS_KEY = env("SECRET_REFERENCE_AWS_SECRET_ACCESS_KEY", default="")
SECRET_REFERENCE_CACHE_SECONDS = min(env.int("SECRET_REFERENCE_CACHE_SECONDS", default=60), 60)
