"""Settings, read from the environment (and an optional .env file).

Every setting is listed with its default in .env.example. The defaults are the embedded
development setup (SQLite, a file-based Celery broker); production sets DATABASE_URL,
CELERY_BROKER_URL, SECRET_KEY and ALLOWED_HOSTS, and leaves DEBUG off.
"""

import datetime as dt
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise environ.ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true for development).")
    SECRET_KEY = "development-only-secret-key-do-not-use-in-production-0123456789"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The public base URL is used in links the app hands out (webhook URLs, feed URLs, emails).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
# The channel simulators at /sandbox/ (channels/sandbox/): on for development, tests and the demo.
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)
# The demo shop (the `demo` app: `manage.py seed_demo` and its flow of orders): `make run` and
# the tests turn it on; production never installs it.
DEMO_ENABLED = env.bool("DEMO_ENABLED", default=False)
# With DEBUG off the sandbox's control endpoints (which show what a shop listed and redirect
# its webhooks) answer only a signed-in staff member or a caller with this token.
SANDBOX_CONTROL_TOKEN = env("SANDBOX_CONTROL_TOKEN", default="")
# The channel API versions the adapters speak (paths and payloads follow them; the sandbox
# serves the same versions).
# The Graph API version of the current facebook-python-business-sdk (apiconfig.py).
META_GRAPH_API_VERSION = env("META_GRAPH_API_VERSION", default="v25.0")
TIKTOK_SHOP_API_VERSION = env("TIKTOK_SHOP_API_VERSION", default="202309")
# Where "Connect" sends merchants and where new accounts' API calls go: the channels' own
# hosts, or this deployment's sandbox (the demo and the tests; needs SANDBOX_ENABLED).
CHANNEL_CONNECT_SANDBOX = env.bool("CHANNEL_CONNECT_SANDBOX", default=False)
# The deployment's own app on each channel. Merchants never type these: they authorise this
# app on the channel's page. With CHANNEL_CONNECT_SANDBOX the sandbox's app is the default.
_SANDBOX_APP = CHANNEL_CONNECT_SANDBOX
META_APP_ID = env("META_APP_ID", default="100000000000001" if _SANDBOX_APP else "")
META_APP_SECRET = env("META_APP_SECRET", default="sandbox-meta-app-secret" if _SANDBOX_APP else "")
# Facebook Login for Business: the configuration (permissions, token type) made in the app dashboard.
META_LOGIN_CONFIG_ID = env("META_LOGIN_CONFIG_ID", default="200000000000002" if _SANDBOX_APP else "")
TIKTOK_SHOP_APP_KEY = env("TIKTOK_SHOP_APP_KEY", default="sandboxapp" if _SANDBOX_APP else "")
TIKTOK_SHOP_APP_SECRET = env("TIKTOK_SHOP_APP_SECRET", default="sandbox-tiktok-app-secret" if _SANDBOX_APP else "")
# TikTok's authorisation page: services.tiktokshop.com (global) or services.tiktokshops.us (US apps).
TIKTOK_SHOP_AUTHORIZE_HOST = env("TIKTOK_SHOP_AUTHORIZE_HOST", default="https://services.tiktokshop.com")
TIKTOK_SHOP_SERVICE_ID = env("TIKTOK_SHOP_SERVICE_ID", default="7000000000000000001" if _SANDBOX_APP else "")
PINTEREST_APP_ID = env("PINTEREST_APP_ID", default="1500001" if _SANDBOX_APP else "")
PINTEREST_APP_SECRET = env("PINTEREST_APP_SECRET", default="sandbox-pinterest-app-secret" if _SANDBOX_APP else "")
# Tokens are refreshed this long before they expire (the beat task runs every 15 minutes).
CHANNEL_TOKEN_REFRESH_AHEAD_HOURS = env.int("CHANNEL_TOKEN_REFRESH_AHEAD_HOURS", default=24)
# How long an authorisation started with "Connect" may take before its state expires.
CHANNEL_CONNECT_MAX_AGE_MINUTES = env.int("CHANNEL_CONNECT_MAX_AGE_MINUTES", default=30)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "djmoney",
    "django_celery_beat",
    "axes",
    "csp",
    "shopadmin",
    "catalog",
    "localization",
    "channels",
    "channels.sandbox",
    "orders",
    "storefront",
    *(["demo"] if DEMO_ENABLED else []),
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in user's saved language wins over the cookie and the browser's.
    "shopadmin.i18n.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # NUL bytes in the path, query or form fields and bodies over the upload limit are a
    # 400/413 here (problem+json under /api/), before any view or query sees them.
    "shopadmin.inputs.InputGuardMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every page (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    # Sets (and always resets) the tenant context: the shop of /app/<slug>/, or all
    # shops for staff in /admin/. The API sets it from the key during authentication.
    "shopadmin.middleware.TenantContextMiddleware",
    # Sign-in throttling: answers a locked-out sign-in (shopadmin/login_throttle.py). Last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "shopadmin.urls"
WSGI_APPLICATION = "shopadmin.wsgi.application"
ASGI_APPLICATION = "shopadmin.asgi.application"

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
                "shopadmin.context_processors.shop",
            ],
            # Dates and times in the reader's digits (Bengali digits in Bengali).
            "builtins": ["shopadmin.templatetags.dates"],
        },
    },
]

# --- Databases -------------------------------------------------------------------------
# "default" is what the web app and workers use: on PostgreSQL an ordinary role that owns
# nothing, so row-level security applies. "owner" runs migrations (manage.py migrate
# --database owner); it defaults to the same URL, which is right for SQLite.
_database_url = env("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {
    "default": environ.Env.db_url_config(_database_url),
    "owner": environ.Env.db_url_config(env("DATABASE_OWNER_URL", default=_database_url)),
}
# Each request runs in one transaction on the app connection: the row-level security
# variables are set inside it and vanish with it.
DATABASES["default"]["ATOMIC_REQUESTS"] = True
for _alias, _db in DATABASES.items():
    if _db["ENGINE"] == "django.db.backends.postgresql":
        _db["ENGINE"] = "shopadmin.db.postgresql"
        if env.bool("DATABASE_POOL", default=False) and _alias == "default":
            _db.setdefault("OPTIONS", {})["pool"] = {
                "min_size": env.int("DATABASE_POOL_MIN", default=2),
                "max_size": env.int("DATABASE_POOL_MAX", default=10),
            }
        else:
            _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
            _db["CONN_HEALTH_CHECKS"] = True
    elif _db["ENGINE"] == "django.db.backends.sqlite3":
        _db.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL;",
            }
        )
# The role the app connects as; migrations grant it table privileges (see shopadmin.db).
DATABASE_APP_ROLE = env("DATABASE_APP_ROLE", default="")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "shopadmin.User"

# Sign-in throttling (django-axes, shopadmin/login_throttle.py): LOGIN_FAILURE_LIMIT wrong
# passwords for one account, or from one address, pause signing in for LOGIN_LOCKOUT_MINUTES.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_ENABLED = env.bool("LOGIN_THROTTLE_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: per account, per address
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # the sign-in forms' field (it holds the email address)
AXES_USERNAME_CALLABLE = "shopadmin.login_throttle.username"
AXES_CLIENT_IP_CALLABLE = "shopadmin.login_throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "shopadmin.login_throttle.lockout_response"
AXES_VERBOSE = False
# How many reverse proxies in front of the app append to X-Forwarded-For (0: use the peer address).
LOGIN_TRUSTED_PROXIES = env.int("LOGIN_TRUSTED_PROXIES", default=0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "shop-picker"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalization --------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("bn", "বাংলা"), ("ur", "اردو")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media ------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "shopadmin" / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Serve MEDIA_ROOT at MEDIA_URL from Django itself: the demo and tests. A deployment serves
# media from its web server or object storage instead.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=DEBUG)
# Where uploaded files (product images and their renditions) are stored: MEDIA_ROOT
# ("filesystem", the default) or an S3-compatible bucket ("s3", django-storages: AWS S3,
# Cloudflare R2, MinIO, Scaleway…). Channels download product images from the URLs the storage
# gives, so the bucket's objects must be publicly readable (no signed URLs by default).
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="filesystem")
if MEDIA_STORAGE == "s3":
    # The keys (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an instance role) are read
    # from the environment by django-storages and boto3 themselves.
    _S3_OPTIONS = {
        "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
        "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
        "region_name": env.str("AWS_S3_REGION_NAME", default=None),
        "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default=None),
        "location": env.str("AWS_LOCATION", default=""),
        "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=False),
        "file_overwrite": False,
        # Stored names are random and never rewritten: caches may keep them for good.
        "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
    }
    _MEDIA_BACKEND = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {key: value for key, value in _S3_OPTIONS.items() if value is not None},
    }
elif MEDIA_STORAGE == "filesystem":
    _MEDIA_BACKEND = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise environ.ImproperlyConfigured(f"MEDIA_STORAGE is “{MEDIA_STORAGE}”; use filesystem or s3.")
STORAGES = {
    "default": _MEDIA_BACKEND,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security --------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts and style sheets only from this site, no
# inline scripts or event handlers (behaviour lives in shopadmin/static/shopadmin/app.js);
# style attributes are allowed (progress bars, layout tweaks), <style> elements are not.
# Product images may come from any https host. The Swagger UI at /api/docs/ runs an inline
# script of drf-spectacular's and is left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:", "https:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}
# CONTENT_SECURITY_POLICY_REPORT_ONLY=true: browsers report violations instead of blocking.
if env.bool("CONTENT_SECURITY_POLICY_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY, CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY, None

# --- Email -----------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Shopadmin <noreply@localhost>")

# --- Cache (API throttling, idempotency keys) ------------------------------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Requests a minute per client address on the public storefront pages (/s/<shop>/); 0: no limit.
STOREFRONT_RATE_LIMIT_PER_MINUTE = env.int("STOREFRONT_RATE_LIMIT_PER_MINUTE", default=120)

# --- Secrets at rest -------------------------------------------------------------------
# Fernet keys, newest first: the first encrypts, all decrypt (rotation: prepend a new key,
# run `manage.py rotate_secrets`, then drop the old one).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

# --- REST API --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["shopadmin.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["shopadmin.api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["shopadmin.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env("API_RATE_LIMIT", default="1200/min")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["shopadmin.api.parsers.StrictJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "shopadmin.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "shopadmin.api.errors.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shopadmin API",
    "DESCRIPTION": (
        "The partner API of Shopadmin. Every request is authenticated with "
        "`Authorization: Bearer <api key>`; a key belongs to one shop and carries scopes. "
        "Errors are `application/problem+json` (RFC 9457) with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Every operation documents its problem+json error responses (shopadmin/api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "shopadmin.api.schema.add_error_responses",
    ],
    # Several models name their choices "Status"; give each enum a stable, telling name.
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "shopadmin.models.Job.Status",
        "ProductStatusEnum": "catalog.models.Product.Status",
        "WebhookEventStatusEnum": "channels.models.WebhookEvent.Status",
        "ListingStatusEnum": "channels.models.ListingStatus",
        "PublishPlanStatusEnum": "channels.models.PublishPlan.Status",
        "PublishBatchStatusEnum": "channels.models.PublishBatch.Status",
        "OrderStatusEnum": "orders.models.Lifecycle",
        "ReconciliationRunStatusEnum": "orders.models.ReconciliationRun.Status",
        "ReconciliationIssueStatusEnum": "orders.models.ReconciliationIssue.Status",
        "ReconciliationIssueActionEnum": "orders.models.IssueAction",
        "ChannelEnum": "channels.models.Channel",
        "AuthorizableChannelEnum": "channels.api.AUTHORIZABLE_CHANNELS",
        "ChannelConnectionStatusEnum": "channels.models.ChannelConnection.Status",
        "ChatDraftStatusEnum": "storefront.models.ChatDraft.Status",
        "ChatSourceEnum": "storefront.models.ChatSource",
        "ChatOrderModeEnum": "storefront.api.CHAT_ORDER_MODES",
    },
}

# --- Celery ----------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = Path(env("CELERY_FILESYSTEM_DIR", default=str(BASE_DIR / "var" / "celery")))
    for _sub in ("queue", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        # Broadcast bindings (worker control) too, or kombu writes them to ./control.
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://", "sqs://")):
    # With acks_late a killed worker's task is redelivered only after the visibility timeout
    # (Redis default: 1 hour). Keep it longer than any countdown/ETA we schedule, or such
    # tasks are delivered twice (ours are idempotent, so that only costs work).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=900)}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Exchange rates -----------------------------------------------------------------------
# A second source for the currencies the ECB does not publish (localization/rate_providers.py).
EXCHANGE_RATE_PROVIDER_URL = env("EXCHANGE_RATE_PROVIDER_URL", default="")
EXCHANGE_RATE_PROVIDER_KEY = env("EXCHANGE_RATE_PROVIDER_KEY", default="")
EXCHANGE_RATE_PROVIDER = env("EXCHANGE_RATE_PROVIDER", default="localization.rate_providers.JsonRatesProvider")

# --- Logging ---------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # httpx logs each request's URL at INFO, and some channels' token calls carry secrets in
    # the query (TikTok Shop's /api/v2/token/get): never logged.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "httpx": {"level": "WARNING"}},
}
