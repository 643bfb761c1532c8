"""Settings: every value comes from the environment, with a safe development default.

No variable set means a development server on SQLite in the project folder with DEBUG on.
Production (``DEBUG=0``) refuses to start without ``SECRET_KEY``.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from obico_api.api.converters import ObjectIdConverter

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def overrides_from_environment(variables):
    """An app's settings dict: for each ``key: (variable, read)`` whose variable is set, ``read(variable)``.

    Only what the environment overrides; the app's own defaults (detection/defaults.py,
    webhooks/conf.py) supply the rest.
    """
    overrides = {}
    for key, (variable, read) in variables.items():
        if variable in env:
            overrides[key] = read(variable)
    return overrides


DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-never-used-in-production"  # noqa: S105
# Earlier keys, still accepted while SECRET_KEY is rotated (Django's SECRET_KEY_FALLBACKS): client
# secrets (accounts/hashers.py), signed snapshot links, device cookies and sessions made under one keep
# working. Comma-separated, so a key with a comma cannot be listed; spaces around a key are not part of it.
SECRET_KEY_FALLBACKS = [key.strip() for key in env.list("SECRET_KEY_FALLBACKS", default=[]) if key.strip()]

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])


def _origin(value: str) -> str:
    """``value`` as ``scheme://host[:port]``, or ImproperlyConfigured if it is anything else."""
    try:
        url = urlsplit(value)
        url.port  # noqa: B018 (raises ValueError for a port that is not a number from 0 to 65535)
    except ValueError:
        url = None
    if (
        url is None
        or url.scheme not in ("http", "https")
        or not url.hostname
        or url.username is not None
        or url.path not in ("", "/")
        or url.query
        or url.fragment
        or value.endswith(("?", "#"))
    ):
        raise ImproperlyConfigured(f"PUBLIC_BASE_URL must be an http(s) origin like https://host.example: {value!r}")
    return f"{url.scheme}://{url.netloc}"


# The origin of every link we hand out (the signed snapshot links in the API's JSON and in webhooks),
# so that no client can choose it with its Host header (issue 23). With DEBUG on, the development
# server (scripts/run); in production https (the only scheme it serves) on the first ALLOWED_HOSTS
# entry, which must then name one host.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="")
if not PUBLIC_BASE_URL:
    if DEBUG:
        PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    elif not ALLOWED_HOSTS or ALLOWED_HOSTS[0] == "*" or ALLOWED_HOSTS[0].startswith("."):
        raise ImproperlyConfigured(
            "Set PUBLIC_BASE_URL (e.g. https://print.example.com): the first ALLOWED_HOSTS entry names no one host."
        )
    else:
        PUBLIC_BASE_URL = f"https://{ALLOWED_HOSTS[0]}"
PUBLIC_BASE_URL = _origin(PUBLIC_BASE_URL)
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
    "drf_spectacular_sidecar",
    "oauth2_provider",
    # Sign-in lockout (django-axes): failures per address and per account, in the database.
    "axes",
    "printers",
    "prints",
    "detection",
    "webhooks",
    "accounts",
]

MIDDLEWARE = [
    # /healthz and /readyz, before the Host header is validated or HTTPS enforced (config/health.py).
    "config.health.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "obico_api.logging.RequestIdMiddleware",
    "obico_api.api.middleware.RequestSizeLimitMiddleware",
    # After the size limit: drains (up to UPLOAD_MAX_BYTES) a body the view did not read, so that
    # gunicorn never resets a connection nginx is still writing to (a 502 instead of our answer).
    "obico_api.api.middleware.UnreadBodyDrainMiddleware",
    # Serves the admin's static files from gunicorn, with no separate web server to configure.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Gives a browser that signed in its device cookie (accounts/brute_force.py).
    "accounts.brute_force.DeviceCookieMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into our 429 page.
    "axes.middleware.AxesMiddleware",
]

# django-axes' backend first: it refuses a locked-out sign-in before any password is hashed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes SQLite's write lock when a transaction starts, so two workers updating
    # one printer's statistics serialise instead of failing or losing an update.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})
    # Tests use a file beside the database (test-<name>), not shared-cache memory, whose table locks
    # ignore the busy timeout; so two checkouts or runs with different databases never share one.
    _sqlite_path = Path(DATABASES["default"]["NAME"])
    DATABASES["default"]["TEST"] = {"NAME": str(_sqlite_path.with_name(f"test-{_sqlite_path.name}"))}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Rate-limit counters and cached token lookups: per process by default; CACHE_URL=redis://...
# shares them between workers (docker-compose does). django-environ maps redis:// to django-redis
# when it is installed (it is a requirement): it keeps one client per process, where Django's own
# backend builds a new one for every call, and increments in one round trip instead of two.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# How long a bearer-token lookup may be served from the cache (accounts/token_cache.py). On by default
# only with a shared cache, whose tombstones end a revoked token in every worker at once; a per-process
# cache could not tell the other workers.
per_process_caches = {"django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache"}
shared_cache = CACHES["default"]["BACKEND"] not in per_process_caches  # lower case: neither is a setting
ACCESS_TOKEN_CACHE_SECONDS = env.int("ACCESS_TOKEN_CACHE_SECONDS", default=60 if shared_cache else 0)

# Django's hashers, then the fast keyed hash for OAuth client secrets (accounts/hashers.py). Last, so
# passwords are never hashed with it: Django hashes them with the first, the one that stretches.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "accounts.hashers.ClientSecretHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic writes here (the Docker build does; tests/e2e/test_production.py, to a temporary folder).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# DEBUG=0 serves hashed names from the manifest collectstatic wrote, so collectstatic must run with
# DEBUG=0 too (the Dockerfile's does); strict, a file missing from it is an error, not a stale URL.
if DEBUG:
    STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"

# Uploaded files we keep (the snapshots of alerts, prints/alert_images.py) go through the default storage:
# the filesystem under MEDIA_ROOT, or the bucket S3_BUCKET names (below). They are
# never served from MEDIA_URL: the API serves each to its owner or to a signed link (prints.api).
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "media/"
# With S3_BUCKET set, alert snapshots live in that S3-compatible bucket instead (django-storages): what
# several replicas need, as they share no disk (README "Deploying"). The bucket stays private (the
# API serves each snapshot itself). Credentials come from boto3's own chain: AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY, or the pod's cloud role.
S3_BUCKET = env.str("S3_BUCKET", default="")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "location": env.str("S3_PREFIX", default=""),
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("S3_REGION", default="") or None,
            # "path" for MinIO and most self-hosted stores; empty lets boto3 choose (virtual hosts on AWS).
            "addressing_style": env.str("S3_ADDRESSING_STYLE", default="") or None,
            "default_acl": None,
            # Never replace a stored snapshot, as the filesystem storage never does.
            "file_overwrite": False,
        },
    }

# The largest request body we read (a 413 above it); snapshots stay in memory, never in temp files.
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES
# Django's own caps on a form or multipart body, at Django's defaults (a predict sends one field):
# more fields or files are a 400 (obico_api.api.exceptions), counted before any is kept.
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("UPLOAD_MAX_FIELDS", default=1000)
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("UPLOAD_MAX_FILES", default=100)
# JSON nested deeper is a 400 before it is parsed (obico_api.api.parsers): Python's decoder recurses
# once a level and fails near 1,000. Our own choice: our bodies are one level deep, 64 is ample.
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=64)
# A larger JSON body is a 413 before it is parsed, which costs far more than reading it. Our own
# choice: our JSON bodies (a printer, a print, a webhook) are well under 2 KB.
JSON_MAX_BYTES = env.int("JSON_MAX_BYTES", default=64 * 1024)

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The toolkit's, reading the bearer token from the Authorization header only.
        "accounts.oauth.HeaderOnlyOAuth2Authentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.UserTokenHasScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies, as the spec shows; predict alone takes multipart (its own parser_classes).
    "DEFAULT_PARSER_CLASSES": ["obico_api.api.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "obico_api.api.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["obico_api.api.throttling.ApiRateThrottle"],
    # Per user (all of the user's tokens together), per app for its own client-credentials tokens,
    # per client address without a token. A webcam sends a snapshot every few seconds; 10 a second
    # per owner leaves room for dozens of printers while capping what one owner's apps can cost us.
    "DEFAULT_THROTTLE_RATES": {
        "api": env.str("THROTTLE_RATE_API", default="1200/min"),
        "predict": env.str("THROTTLE_RATE_PREDICT", default="600/min"),
    },
    "UNAUTHENTICATED_USER": None,
}
# The most of a user's limits (both) one of the user's apps may spend, so one app cannot starve the
# user's others: with a half, a second app always has the other half. 1 turns the shares off.
THROTTLE_APP_SHARE = env.float("THROTTLE_APP_SHARE", default=0.5)
if not 0 < THROTTLE_APP_SHARE <= 1:
    raise ImproperlyConfigured("THROTTLE_APP_SHARE must be more than 0 and at most 1.")

SPECTACULAR_SETTINGS = {
    "TITLE": "Print-failure detection API",
    "DESCRIPTION": (
        "Obico-compatible printer management and AI failure detection for OAuth apps. "
        'Every error body is {"error": "sentence", "code": "..."}.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs are public: they describe the API, they grant nothing.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI's files come from the drf-spectacular-sidecar package: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "OAUTH2_FLOWS": ["authorizationCode"],
    "OAUTH2_AUTHORIZATION_URL": "/o/authorize/",
    "OAUTH2_TOKEN_URL": "/o/token/",
    "OAUTH2_REFRESH_URL": "/o/token/",
    "SWAGGER_UI_OAUTH2_CONFIG": {"usePkceWithAuthorizationCodeGrant": True},
    "COMPONENT_SPLIT_REQUEST": True,
    # Stripped from paths for operationIds and tags: one style, "printers_retrieve" (the path's nouns and
    # DRF's verb); the spec's start_print, predict and finish_print name their own (prints.api).
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # <id:...> in the urls (registered in config.urls).
    "PATH_CONVERTER_OVERRIDES": {"id": ObjectIdConverter.openapi_schema},
    "ENUM_NAME_OVERRIDES": {
        "PrintStatusEnum": "prints.models.Print.Status",
        "AlertFeedbackEnum": "prints.serializers.FEEDBACK_CHOICES",
    },
}

# --- OAuth 2 (django-oauth-toolkit) -----------------------------------------------------------
OAUTH2_PROVIDER = {
    # The one list of scopes; every API view requires `read` for GET and `write` otherwise.
    "SCOPES": {
        "read": "See your printers and prints",
        "write": "Start and finish prints and send snapshots for failure detection",
    },
    "DEFAULT_SCOPES": ["read"],
    "PKCE_REQUIRED": True,
    # Obico lets access tokens live 100 years; ours expire and are renewed with a refresh token.
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("ACCESS_TOKEN_EXPIRE_SECONDS", default=10 * 3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env.int("REFRESH_TOKEN_EXPIRE_SECONDS", default=30 * 24 * 3600),
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "OAUTH2_VALIDATOR_CLASS": "accounts.oauth.CodeFlowOnlyValidator",
    # Client secrets are 128 random characters: a keyed HMAC, not a password hasher, stores them, so
    # a wrong one costs microseconds, not 0.5 s (accounts/hashers.py). Older hashes still verify.
    "CLIENT_SECRET_HASHER": "client_secret_hmac_sha256",
    # The admin's application form applies the same redirect-URI rule as /apps/new/.
    "APPLICATION_ADMIN_CLASS": "accounts.admin.CheckedApplicationAdmin",
    # RFC 9700 (OAuth 2.0 Security BCP), each gate django-oauth-toolkit offers: no implicit or
    # password grant, S256 PKCE only, tokens never in query strings, `iss` in authorization
    # responses, tokens stored hashed (a database leak leaks no usable token).
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    # http stays in the list for loopback redirect URIs (RFC 8252 native apps and local
    # development); accounts.oauth refuses plain http to any other host, which is why the
    # toolkit's blanket warning about http (oauth2_provider.W008) is silenced below.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
}
SILENCED_SYSTEM_CHECKS = ["oauth2_provider.W008"]
# A client secret typed in the admin must be this long; generated ones are 128 characters. Secrets are
# stored with a fast hash and guesses are not counted per client (accounts/hashers.py), so the length
# is what stops guessing: 32 random letters and digits are about 190 bits.
CLIENT_SECRET_MIN_LENGTH = env.int("CLIENT_SECRET_MIN_LENGTH", default=32)
# Client ids of resource servers that may introspect any token at /o/introspect/; every other
# confidential client learns only about its own tokens (RFC 7662 §2.2 lets the server decide).
OAUTH_INTROSPECTION_CLIENT_IDS = env.list("OAUTH_INTROSPECTION_CLIENT_IDS", default=[])

# --- Password and client-secret guessing (accounts/brute_force.py) ---------------------------
# Each password guess costs a password hash (about 0.5 s of CPU). Sign-in failures are counted per
# client address and per account; at a limit, that address or account is refused with a 429,
# unhashed, for LOCKOUT_MINUTES after its last counted failure. The address limit is the tight one;
# the account limit is five times it, so one address guessing never locks the owner out elsewhere,
# while guesses from many addresses still end.
# Our choice of numbers: nobody mistypes a password 10 times in 15 minutes, and 50 failures an
# account is 4,800 guesses a day at most, against passwords Django's validators keep off the
# common lists. A cool-off, not a permanent lockout: anyone who knows a username could otherwise
# lock its owner out for good.
LOCKOUT_MINUTES = env.int("LOCKOUT_MINUTES", default=15)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT_ADDRESS", default=10)
LOGIN_FAILURE_LIMIT_ACCOUNT = env.int("LOGIN_FAILURE_LIMIT_ACCOUNT", default=50)
# A browser that signed in to an account before (a signed device cookie, OWASP's "device cookies")
# signs in to it past both limits, so guessers cannot keep the owner out: its failures count against
# its cookie alone, refused at this many until its LOCKOUT_MINUTES window ends (in the cache, like the
# /o/token/ counters; as an address: a stolen cookie buys no more guesses than a fresh address).
# A year: the cookie grants nothing without the password, and an owner who signs in rarely should
# still be recognised.
LOGIN_FAILURE_LIMIT_DEVICE = env.int("LOGIN_FAILURE_LIMIT_DEVICE", default=10)
LOGIN_DEVICE_COOKIE_DAYS = env.int("LOGIN_DEVICE_COOKIE_DAYS", default=365)
# Every password that is checked, the right ones too: each costs the hash, and failures alone let anyone
# with an account make us hash their password again and again. Counted per LOCKOUT_MINUTES window, in
# the cache, before anything is hashed; past a limit the sign-in gets the lockout's 429. Without a
# trusted browser per address and per account (above the failure limits, so guessing meets those
# first); from an account's trusted browsers per account alone, so checks at a shared address never
# keep the owner out. Our numbers: nobody signs in 20 times in 15 minutes, and 20 checks are 10 s of
# one core in 15 minutes (about 1 %); 100 an account stays above the 50 failures that lock it.
LOGIN_ATTEMPT_LIMIT_ADDRESS = env.int("LOGIN_ATTEMPT_LIMIT_ADDRESS", default=20)
LOGIN_ATTEMPT_LIMIT_ACCOUNT = env.int("LOGIN_ATTEMPT_LIMIT_ACCOUNT", default=100)
LOGIN_ATTEMPT_LIMIT_TRUSTED = env.int("LOGIN_ATTEMPT_LIMIT_TRUSTED", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=LOCKOUT_MINUTES)
# The order matters: accounts.brute_force.AccountAndAddressHandler reads [address, account].
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_HANDLER = "accounts.brute_force.AccountAndAddressHandler"
# The client's address as our proxies saw it (TRUSTED_PROXY_COUNT), an IPv6 one by its /64.
AXES_CLIENT_IP_CALLABLE = "obico_api.api.client_address.client_network"
# Refused attempts neither count nor extend the lockout: a locked-out address cannot push an
# account towards its own lockout. A success resets nothing: an attacker with an account of their
# own could otherwise clear their address's count between guesses.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "accounts.brute_force.sign_in_lockout_response"
# Only the failures needed for lockouts are stored (they expire); not a row for every sign-in.
AXES_DISABLE_ACCESS_LOG = True
# /o/token/, /o/revoke_token/, /o/introspect/: failed client authentications, counted with
# django-ratelimit's get_usage in the cache (shared through Redis with CACHE_URL, else per worker
# process, as the API's rate limits), per address and per client at an address, never per client
# alone (anyone knows a client_id). Past a limit, failures are a 429; credentials that verify are
# always served. Our numbers: a client with the right secret needs one try, so five failures for
# one client from one address are a bug or a guesser, and ten from one address across clients a scan.
TOKEN_FAILURE_LIMITS = {
    "address": env.int("TOKEN_FAILURE_LIMIT_ADDRESS", default=10),
    "client_address": env.int("TOKEN_FAILURE_LIMIT_CLIENT_ADDRESS", default=5),
}

# --- Sign-in pages for printer owners ---------------------------------------------------------
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/apps/connected/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
X_FRAME_OPTIONS = "DENY"  # the consent page must never be framed (clickjacking an Allow)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Named explicitly because our models point at the (swappable) OAuth application and token models.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 (a model name, not a secret)

# --- Printers -----------------------------------------------------------------------------------
# Most printers one user may have; creating one more is a 400 `too_many_printers`. The spec's list of
# printers is one array with no pages, and at 5,000 printers one list cost 10-15 predicts (issue 23).
# Our choice: 100 is a large print farm, and listing 100 costs about half an ordinary predict's CPU.
PRINTERS_MAX_PER_USER = env.int("PRINTERS_MAX_PER_USER", default=100)

# --- Detection ----------------------------------------------------------------------------------
# Only what the environment overrides: the defaults, each with its source, are in detection/defaults.py;
# the rules' finer constants (ADAPTIVE_*, ADAPTATION_*, VERDICT_* keys) are set in settings.DETECTION.
DETECTION = overrides_from_environment(
    {
        "MODEL_PATH": ("DETECTION_MODEL_PATH", env.path),  # any ONNX file of the tensor contract
        "THREADS": ("DETECTION_THREADS", env.int),
        "CONF_THRESHOLD": ("DETECTION_CONF_THRESHOLD", env.float),
        "NMS_IOU": ("DETECTION_NMS_IOU", env.float),
        "VERDICT_RULE": ("DETECTION_VERDICT_RULE", env.str),  # "adaptive" (ours) or "obico"
        "MAX_PIXELS": ("UPLOAD_MAX_PIXELS", env.int),
        "MAX_FULL_DECODE_PIXELS": ("UPLOAD_MAX_FULL_DECODE_PIXELS", env.int),
        "MAX_ASPECT_RATIO": ("UPLOAD_MAX_ASPECT_RATIO", env.float),
        "MAX_JPEG_SCANS": ("UPLOAD_MAX_JPEG_SCANS", env.int),
        "MAX_IMAGE_BYTES": ("UPLOAD_MAX_IMAGE_BYTES", env.int),
        "MAX_WEBP_BYTES": ("UPLOAD_MAX_WEBP_BYTES", env.int),
        "MAX_IMAGE_SEGMENTS": ("UPLOAD_MAX_IMAGE_SEGMENTS", env.int),
        "MAX_DECODED_PIXELS": ("UPLOAD_MAX_DECODED_PIXELS", env.int),
    }
)

# Every prediction is kept this long for the timeline API and the admin chart; alerts and their
# snapshots too (manage.py prune_predictions deletes both).
PREDICTION_RETENTION_DAYS = env.int("PREDICTION_RETENTION_DAYS", default=30)
# How long the signed snapshot link of an alert (in the API's JSON and in webhooks) works without a
# token. Our choice: a day covers a notification read the next morning; the owner's token always works.
ALERT_SNAPSHOT_URL_MAX_AGE_SECONDS = env.int("ALERT_SNAPSHOT_URL_MAX_AGE_SECONDS", default=24 * 3600)
# Alerts are bounded: frames alternating between failing and clean once made 109 alerts and 199 MB in
# 55 s (issue 23). An alert of a level re-arms only once the print's verdict has stayed below that
# level for this many snapshots and this many seconds. Our choice: 30 snapshots, as many as Obico's
# rule waits before a print's first alarm, and 5 minutes: a print that wavers within them is one
# incident.
ALERT_REARM_SNAPSHOTS = env.int("ALERT_REARM_SNAPSHOTS", default=30)
ALERT_REARM_SECONDS = env.int("ALERT_REARM_SECONDS", default=300)
# Most alerts of each level one print records; a later rise records nothing and sends nothing. Our
# choice: with the re-arming above, ten take at least 45 minutes of a wavering print.
ALERTS_MAX_PER_PRINT = env.int("ALERTS_MAX_PER_PRINT", default=10)
# Bytes of stored alert snapshots per user (kept PREDICTION_RETENTION_DAYS); past it an alert is still
# recorded and sent, without a snapshot. Our choice: 100 MiB is about 500 webcam snapshots at 1280 px
# (100-300 KB each), far more than a month of real alerts.
ALERT_STORAGE_QUOTA_BYTES = env.int("ALERT_STORAGE_QUOTA_BYTES", default=100 * 1024 * 1024)
# Largest stored alert snapshot: one over it is stored at half the size, and again down to 320 px
# (prints/alert_images.py). A frame of noise once made 850 KB at 1280 px, more than its upload (issue 23).
# Our choice: above a real 1280 px webcam frame's 100-300 KB, so those keep their full size.
ALERT_SNAPSHOT_MAX_BYTES = env.int("ALERT_SNAPSHOT_MAX_BYTES", default=320 * 1024)

# --- Webhooks -----------------------------------------------------------------------------------
# Only what the environment overrides: the defaults, each with its source, are in webhooks/conf.py.
WEBHOOKS = overrides_from_environment(
    {
        "TIMEOUT_SECONDS": ("WEBHOOK_TIMEOUT_SECONDS", env.float),
        "MAX_RESPONSE_BYTES": ("WEBHOOK_MAX_RESPONSE_BYTES", env.int),
        "WORKER_THREADS": ("WEBHOOK_WORKER_THREADS", env.int),
        "MAX_ATTEMPTS": ("WEBHOOK_MAX_ATTEMPTS", env.int),
        "RESOLVE_TIMEOUT_SECONDS": ("WEBHOOK_RESOLVE_TIMEOUT_SECONDS", env.float),
    }
)
# Receivers on loopback or private networks only in development (server-side request forgery).
WEBHOOKS["ALLOW_PRIVATE_NETWORKS"] = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=DEBUG)

# --- Logging ------------------------------------------------------------------------------------
# LOG_FORMAT=json writes one JSON object a line (python-json-logger), each with the request id.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "obico_api.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Production hardening -----------------------------------------------------------------------
# How many proxies of ours stand in front of gunicorn, each appending to X-Forwarded-For
# (docker-compose: 1, its nginx). 0 means clients reach gunicorn directly, and X-Forwarded-*
# headers are theirs to forge: obico_api/api/client_address.py and the scheme below ignore them.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    if TRUSTED_PROXY_COUNT:
        # Our nginx overwrites X-Forwarded-Proto with the scheme the client used (deploy/nginx).
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
