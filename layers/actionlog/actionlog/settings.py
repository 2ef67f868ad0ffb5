"""Every environment variable Actionlog reads, parsed and validated once per container."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import cache
from typing import NamedTuple

from actionlog.errors import ConfigurationError

# Namespaces the cache routes must never reach, whatever the operator configures.
RESERVED_KEY_PREFIXES = ("user:", "actionlog:")
_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9:_.-]{1,64}")
DEFAULT_CACHE_KEY_PREFIXES = ("session:", "cache:")


class Settings(NamedTuple):
    """Actionlog's configuration: the defaults below, and what the environment sets (`from_env`)."""

    redis_url: str | None = None
    redis_host: str = "localhost"
    redis_port: int = 6379
    redis_username: str | None = None
    redis_password: str | None = None
    redis_secret_arn: str | None = None
    redis_tls: bool = False
    redis_tls_ca_certs: str | None = None
    redis_cluster: bool = False
    # Sized for Lambda: even (1 + retries) * socket timeout stays well inside the function timeout.
    redis_socket_timeout: float = 1.0
    redis_connect_timeout: float = 1.0
    redis_retries: int = 1
    redis_health_check_interval: int = 10
    actions_max_entries: int = 100
    cache_key_prefixes: tuple[str, ...] = DEFAULT_CACHE_KEY_PREFIXES
    auth_required: bool = True
    user_id_claim: str = "sub"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the configuration from `env` (default: the process environment)."""
        env = os.environ if env is None else env
        reader = _Reader(env)
        default = cls._field_defaults
        return cls(
            redis_url=reader.text("REDIS_URL"),
            redis_host=reader.text("REDIS_HOST") or default["redis_host"],
            redis_port=reader.integer("REDIS_PORT", default["redis_port"], low=1, high=65535),
            redis_username=reader.text("REDIS_USERNAME"),
            redis_password=reader.text("REDIS_PASSWORD"),
            redis_secret_arn=reader.text("REDIS_SECRET_ARN"),
            redis_tls=reader.flag("REDIS_TLS", default["redis_tls"]),
            redis_tls_ca_certs=reader.text("REDIS_TLS_CA_CERTS"),
            redis_cluster=reader.flag("REDIS_CLUSTER", default["redis_cluster"]),
            redis_socket_timeout=reader.seconds("REDIS_SOCKET_TIMEOUT", default["redis_socket_timeout"]),
            redis_connect_timeout=reader.seconds("REDIS_CONNECT_TIMEOUT", default["redis_connect_timeout"]),
            redis_retries=reader.integer("REDIS_RETRIES", default["redis_retries"], low=0, high=5),
            redis_health_check_interval=reader.integer(
                "REDIS_HEALTH_CHECK_INTERVAL", default["redis_health_check_interval"], low=0, high=3600
            ),
            actions_max_entries=reader.integer(
                "ACTIONS_MAX_ENTRIES", default["actions_max_entries"], low=1, high=10_000
            ),
            cache_key_prefixes=_cache_key_prefixes(reader.text("CACHE_KEY_PREFIXES")),
            auth_required=reader.flag("AUTH_REQUIRED", default["auth_required"]),
            user_id_claim=reader.text("USER_ID_CLAIM") or default["user_id_claim"],
        )


@cache
def get_settings() -> Settings:
    """The container's settings, read from the environment on first use."""
    return Settings.from_env()


class _Reader:
    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def flag(self, name: str, default: bool) -> bool:
        value = self.text(name)
        if value is None:
            return default
        match value.lower():
            case "true" | "1" | "yes":
                return True
            case "false" | "0" | "no":
                return False
        raise ConfigurationError(f"{name} must be true or false, got {value!r}")

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigurationError(f"{name} must be an integer, got {value!r}") from None
        if not low <= number <= high:
            raise ConfigurationError(f"{name} must be between {low} and {high}, got {number}")
        return number

    def seconds(self, name: str, default: float) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigurationError(f"{name} must be a number of seconds, got {value!r}") from None
        if not 0 < number <= 30:
            raise ConfigurationError(f"{name} must be more than 0 and at most 30 seconds, got {number}")
        return number


def _cache_key_prefixes(value: str | None) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_CACHE_KEY_PREFIXES
    prefixes = tuple(prefix.strip() for prefix in value.split(",") if prefix.strip())
    if not prefixes:
        raise ConfigurationError("CACHE_KEY_PREFIXES must name at least one prefix")
    for prefix in prefixes:
        if not _PREFIX_PATTERN.fullmatch(prefix):
            raise ConfigurationError(f"CACHE_KEY_PREFIXES entry {prefix!r} may use only A-Z a-z 0-9 : _ . -")
        if any(prefix.startswith(reserved) or reserved.startswith(prefix) for reserved in RESERVED_KEY_PREFIXES):
            raise ConfigurationError(f"CACHE_KEY_PREFIXES may not include {prefix!r}: it overlaps Actionlog's own keys")
    return prefixes
