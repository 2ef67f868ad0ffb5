"""Every environment variable Actionlog's functions read: one table, read once per container.

Each variable is declared once, as a row below: its name, how its text is read, its default, its bounds and what
it means. `Settings.from_env` reads the rows; template.yaml's parameters carry the same defaults and bounds
(tests/deploy/test_settings_template.py checks them), and docs/configuration.md is generated from the rows
(`python -m dev.settings_doc`). Adding a setting: one `setting(...)` row in `Settings`, and a template parameter
with the environment variable it sets.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, NamedTuple

from actionlog.errors import ConfigurationError

# Namespaces the cache routes must never reach, whatever the operator configures.
RESERVED_KEY_PREFIXES = ("user:", "actionlog:")
_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9:_.-]{1,64}")

# Powertools' spellings of a switch (its `strtobool`, which reads its own POWERTOOLS_* switches), so that a flag
# means the same in every variable of a function.
_TRUE = frozenset({"1", "y", "yes", "t", "true", "on"})
_FALSE = frozenset({"0", "n", "no", "f", "false", "off"})


@dataclasses.dataclass(frozen=True)
class Kind[T]:
    """How a variable's text is read: `parse` raises ValueError with what is wrong, completing "<NAME> ..."."""

    parse: Callable[[str], T]
    show: Callable[[Any], str]  # a value as the template and the docs write it
    offered: tuple[str, ...] = ()  # the spellings a template parameter offers, when the kind has a few


def parse_flag(text: str) -> bool:
    """The one reading of a true/false variable."""
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"must be true or false, got {text!r}")


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"must be an integer, got {text!r}") from None


def _seconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"must be a number of seconds, got {text!r}") from None


def _prefixes(text: str) -> tuple[str, ...]:
    prefixes = tuple(prefix.strip() for prefix in text.split(",") if prefix.strip())
    if not prefixes:
        raise ValueError("must name at least one prefix")
    for prefix in prefixes:
        if not _PREFIX_PATTERN.fullmatch(prefix):
            raise ValueError(f"entry {prefix!r} may use only A-Z a-z 0-9 : _ . -")
        if any(prefix.startswith(reserved) or reserved.startswith(prefix) for reserved in RESERVED_KEY_PREFIXES):
            raise ValueError(f"may not include {prefix!r}: it overlaps Actionlog's own keys")
    return prefixes


TEXT = Kind[str](str, lambda value: value or "")
INTEGER = Kind(_integer, str)
SECONDS = Kind(_seconds, lambda value: f"{value:g}")
FLAG = Kind(parse_flag, lambda value: "true" if value else "false", offered=("true", "false"))
PREFIXES = Kind(_prefixes, ",".join)  # comma-separated cache key prefixes, never one of Actionlog's own


class Variable[T](NamedTuple):
    """One row of the table: an environment variable, how it is read, its default, bounds and meaning."""

    name: str
    kind: Kind[T]
    default: T  # when the variable is unset or empty (SAM passes an empty parameter as "")
    meaning: str
    low: int | float | None = None  # inclusive bounds of a number, as a template's MinValue and MaxValue
    high: int | float | None = None
    allowed: tuple[str, ...] = ()  # the only values, as a template's AllowedValues (a flag: the kind's)
    field: str | None = None  # the `Settings` field it sets; None for a variable Powertools reads

    @property
    def allowed_values(self) -> tuple[str, ...]:
        return self.allowed or self.kind.offered

    def read(self, env: Mapping[str, str]) -> T:
        """The value `env` gives the variable, or its default; ConfigurationError names it when the value is bad."""
        text = env.get(self.name, "").strip()
        if not text:
            return self.default
        if self.allowed and text not in self.allowed:
            raise ConfigurationError(f"{self.name} must be one of {', '.join(self.allowed)}, got {text!r}")
        try:
            value = self.kind.parse(text)
        except ValueError as error:
            raise ConfigurationError(f"{self.name} {error}") from None
        if isinstance(value, int | float) and not _within(value, self.low, self.high):
            raise ConfigurationError(f"{self.name} must be between {self.low} and {self.high}, got {value}")
        return value


def _within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or low <= value) and (high is None or value <= high)  # NaN is within no bounds


_ROW = "actionlog.variable"  # the key of a Settings field's row in its metadata


def setting[T](
    name: str,
    kind: Kind[T],
    default: T,
    *,
    low: int | float | None = None,
    high: int | float | None = None,
    allowed: tuple[str, ...] = (),
    meaning: str,
) -> T:
    """A `Settings` field read from the environment variable `name`: a row of the table."""
    row = Variable(name, kind, default, meaning, low=low, high=high, allowed=allowed)
    return dataclasses.field(default=default, metadata={_ROW: row})


@dataclasses.dataclass(frozen=True)
class Settings:
    """Actionlog's configuration: the defaults below, and what the environment sets (`from_env`)."""

    # fmt: off
    redis_url: str | None = setting("REDIS_URL", TEXT, None, meaning=
        "full `redis://` or `rediss://` URL; wins over host and port")
    redis_host: str = setting("REDIS_HOST", TEXT, "localhost", meaning="Redis server host")
    redis_port: int = setting("REDIS_PORT", INTEGER, 6379, low=1, high=65535, meaning="Redis server port")
    redis_username: str | None = setting("REDIS_USERNAME", TEXT, None, meaning="ACL user")
    redis_password: str | None = setting("REDIS_PASSWORD", TEXT, None, meaning=
        "password; no template parameter on purpose: a variable shows in the function's configuration, so a"
        " deployment keeps the password in the secret of REDIS_SECRET_ARN")
    redis_secret_arn: str | None = setting("REDIS_SECRET_ARN", TEXT, None, meaning=
        "Secrets Manager secret with the password (plain, or JSON with `password` and optional `username`), read on"
        " the first connection and cached; read again after an authentication failure, so a rotation needs no"
        " redeploy")
    redis_tls: bool = setting("REDIS_TLS", FLAG, False, meaning=
        "`true` for TLS (ElastiCache in-transit encryption); the server certificate and host name are verified")
    redis_tls_ca_certs: str | None = setting("REDIS_TLS_CA_CERTS", TEXT, None, meaning=
        "CA bundle to verify the server with (the system store otherwise)")
    redis_cluster: bool = setting("REDIS_CLUSTER", FLAG, False, meaning=
        "`true` for cluster mode enabled and ElastiCache Serverless")
    # The timeouts' and retries' maxima keep a dead Redis a 503 inside the function timeout, not a timeout (API
    # Gateway's bare 500): tests/deploy/test_template.py adds up the worst case.
    redis_socket_timeout: float = setting("REDIS_SOCKET_TIMEOUT", SECONDS, 1.0, low=0.1, high=2, meaning=
        "seconds a Redis command may take before it fails (and answers 503)")
    redis_connect_timeout: float = setting("REDIS_CONNECT_TIMEOUT", SECONDS, 1.0, low=0.1, high=2, meaning=
        "seconds a new Redis connection may take")
    redis_retries: int = setting("REDIS_RETRIES", INTEGER, 1, low=0, high=1, meaning=
        "retries after a connection error (not after a reply timed out: the command may have run), with"
        " exponential backoff")
    redis_health_check_interval: int = setting("REDIS_HEALTH_CHECK_INTERVAL", INTEGER, 10, low=0, high=3600, meaning=
        "seconds a connection may sit idle before it is PINGed when next used (a thawed container's socket is often"
        " dead); 0 never checks")
    actions_max_entries: int = setting("ACTIONS_MAX_ENTRIES", INTEGER, 100, low=1, high=10_000, meaning=
        "cap of each user's action list")
    cache_key_prefixes: tuple[str, ...] = setting("CACHE_KEY_PREFIXES", PREFIXES, ("session:", "cache:"), meaning=
        "comma-separated key prefixes the shared cache routes may use (A-Z a-z 0-9 : _ . -), never `user:` or"
        " `actionlog:`")
    auth_required: bool = setting("AUTH_REQUIRED", FLAG, True, meaning=
        "`false` lets requests without JWT claims through: for local development only, keep `true` in a deployment")
    user_id_claim: str = setting("USER_ID_CLAIM", TEXT, "sub", meaning="JWT claim that names the caller's user id")
    # Per-user limits (docs/limits.md says what a person using an app can do within the defaults, and why).
    rate_limit_writes: int = setting("RATE_LIMIT_WRITES", INTEGER, 120, low=0, high=1_000_000, meaning=
        "write requests (POST, PUT, DELETE) one user, or one client on /cache, may make per window; 0: no limit")
    rate_limit_reads: int = setting("RATE_LIMIT_READS", INTEGER, 600, low=0, high=1_000_000, meaning=
        "read requests (GET) one user, or one client on /cache, may make per window; 0: no limit")
    rate_limit_window_seconds: int = setting("RATE_LIMIT_WINDOW_SECONDS", INTEGER, 60, low=1, high=86_400, meaning=
        "the rate limits' window: fixed, aligned to the epoch")
    user_cache_max_keys: int = setting("USER_CACHE_MAX_KEYS", INTEGER, 100, low=1, high=10_000, meaning=
        "keys a user's own cache may hold")
    user_cache_max_bytes: int = setting("USER_CACHE_MAX_BYTES", INTEGER, 1_048_576, low=262_144, high=104_857_600,
        meaning="bytes of values a user's own cache may hold (at least one value of the largest size)")
    user_data_retention_days: int = setting("USER_DATA_RETENTION_DAYS", INTEGER, 365, low=0, high=3_650, meaning=
        "N > 0: a user's log expires N days after its last write, and their cache entries written without"
        " `ttlSeconds` after N days; 0: kept until deleted")
    # fmt: on

    @property
    def retention_ms(self) -> int:
        """USER_DATA_RETENTION_DAYS in milliseconds, as the scripts take it (0: kept until deleted)."""
        return self.user_data_retention_days * 24 * 60 * 60 * 1000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the configuration from `env` (default: the process environment)."""
        env = os.environ if env is None else env
        return cls(**{row.field: row.read(env) for row in SETTINGS if row.field})


SETTINGS: tuple[Variable[Any], ...] = tuple(
    each.metadata[_ROW]._replace(field=each.name) for each in dataclasses.fields(Settings)
)

# Powertools reads these itself (observability.py reads the first two for the Logger and Metrics it makes, and the
# switch); they are rows here so that the template and the docs are checked against them too.
POWERTOOLS_SERVICE_NAME = Variable(
    "POWERTOOLS_SERVICE_NAME", TEXT, "actionlog", "`service` of every log line and metric"
)
POWERTOOLS_METRICS_NAMESPACE = Variable(
    "POWERTOOLS_METRICS_NAMESPACE", TEXT, "Actionlog", "CloudWatch namespace of the metrics"
)
POWERTOOLS_LOG_LEVEL = Variable(
    "POWERTOOLS_LOG_LEVEL",
    TEXT,
    "INFO",
    "level of the JSON logs (Lambda filters them at the same level)",
    allowed=("DEBUG", "INFO", "WARN", "ERROR"),
)
POWERTOOLS_LOGGER_LOG_EVENT = Variable(
    "POWERTOOLS_LOGGER_LOG_EVENT", FLAG, False, "`true` logs every event: debugging only, an event carries a token"
)

VARIABLES: tuple[Variable[Any], ...] = (
    *SETTINGS,
    POWERTOOLS_SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL,
    POWERTOOLS_LOGGER_LOG_EVENT,
)


@cache
def get_settings() -> Settings:
    """The container's settings, read from the environment on first use."""
    return Settings.from_env()
