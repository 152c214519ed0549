"""Typed settings, built once from the environment at start-up (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit


class SettingsError(ValueError):
    """A variable holds a value Almanac cannot use; the message names it and what it accepts."""

    def __init__(self, variable: str, value: str, accepts: str) -> None:
        self.variable = variable
        super().__init__(f"{variable}={value!r} is not valid: expected {accepts}")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str | None = None
    port: int = 587
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str | None = None
    starttls: bool = True


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting Almanac reads; `database_url`/`redis_url` None means embedded servers."""

    database_url: str | None = None
    redis_url: str | None = None
    worker_concurrency: int = 5
    default_timeout_ms: int = 300_000
    default_retries: int = 3
    event_retention_days: int = 30
    event_rate_limit_per_source: int = 1000
    modules_path: tuple[Path, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".almanac")
    redis_prefix: str = "almanac"
    lease_timeout_ms: int = 30_000
    shutdown_grace_ms: int = 10_000
    stream_maxlen: int = 1_000_000
    db_pool_size: int | None = None  # caps each process's connection pools (None: role default)
    log_level: str = "INFO"
    chromium_path: str | None = None
    max_browsers: int = 2
    webhook_secret: str | None = field(default=None, repr=False)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)

    @property
    def embedded_postgres(self) -> bool:
        return self.database_url is None

    @property
    def embedded_redis(self) -> bool:
        return self.redis_url is None

    def with_servers(self, database_url: str, redis_url: str) -> Settings:
        """The same settings pointed at running servers (used once embedded ones started)."""
        from dataclasses import replace

        return replace(self, database_url=database_url, redis_url=redis_url)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        source = _Source(os.environ if env is None else env)
        return cls(
            database_url=source.url("DATABASE_URL", ("postgres", "postgresql")),
            redis_url=_redis_url(source),
            worker_concurrency=source.integer("JOB_WORKER_CONCURRENCY", 5, 1, 1000),
            default_timeout_ms=source.integer("JOB_DEFAULT_TIMEOUT", 300_000, 1000, 86_400_000),
            default_retries=source.integer("JOB_DEFAULT_RETRIES", 3, 0, 25),
            event_retention_days=source.integer("EVENT_RETENTION_DAYS", 30, 1, 36_500),
            event_rate_limit_per_source=source.integer(
                "EVENT_RATE_LIMIT_PER_SOURCE", 1000, 1, 1_000_000
            ),
            modules_path=source.paths("MODULES_PATH"),
            host=source.text("ALMANAC_HOST", "127.0.0.1"),
            port=source.integer("ALMANAC_PORT", 8000, 1, 65535),
            data_dir=Path(source.text("ALMANAC_DATA_DIR", ".almanac")),
            redis_prefix=source.name("ALMANAC_REDIS_PREFIX", "almanac"),
            lease_timeout_ms=source.integer("ALMANAC_LEASE_TIMEOUT", 30_000, 1000, 3_600_000),
            shutdown_grace_ms=source.integer("ALMANAC_SHUTDOWN_GRACE", 10_000, 0, 3_600_000),
            stream_maxlen=source.integer("ALMANAC_STREAM_MAXLEN", 1_000_000, 1000, 10**9),
            db_pool_size=source.optional_integer("ALMANAC_DB_POOL_SIZE", 4, 100),
            log_level=source.choice("ALMANAC_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING")),
            chromium_path=source.optional("ALMANAC_CHROMIUM"),
            max_browsers=source.integer("ALMANAC_MAX_BROWSERS", 2, 1, 64),
            webhook_secret=source.optional("ALMANAC_WEBHOOK_SECRET"),
            smtp=_smtp(source),
        )


def _redis_url(source: _Source) -> str | None:
    number = source.integer("REDIS_PORT", 6379, 1, 65535)  # checked even when unused
    url = source.url("REDIS_URL", ("redis", "rediss", "unix"))
    if url is not None:
        return url
    host = source.optional("REDIS_HOST")
    port = source.optional("REDIS_PORT")
    password = source.optional("REDIS_PASSWORD")
    if host is None and port is None and password is None:
        return None
    auth = f":{quote(password, safe='')}@" if password else ""
    return f"redis://{auth}{host or 'localhost'}:{number}/0"


def _smtp(source: _Source) -> SmtpSettings:
    return SmtpSettings(
        host=source.optional("SMTP_HOST"),
        port=source.integer("SMTP_PORT", 587, 1, 65535),
        user=source.optional("SMTP_USER"),
        password=source.optional("SMTP_PASSWORD"),
        sender=source.optional("SMTP_FROM"),
        starttls=source.boolean("SMTP_STARTTLS", default=True),
    )


@dataclass(frozen=True, slots=True)
class _Source:
    env: Mapping[str, str]

    def optional(self, name: str) -> str | None:
        value = self.env.get(name, "").strip()
        return value or None

    def text(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(name, raw, f"a whole number from {low} to {high}") from None
        if not low <= value <= high:
            raise SettingsError(name, raw, f"a whole number from {low} to {high}")
        return value

    def optional_integer(self, name: str, low: int, high: int) -> int | None:
        if self.optional(name) is None:
            return None
        return self.integer(name, low, low, high)

    def boolean(self, name: str, *, default: bool) -> bool:
        raw = self.optional(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(name, raw, "true or false")

    def choice(self, name: str, default: str, options: tuple[str, ...]) -> str:
        raw = (self.optional(name) or default).upper()
        if raw not in options:
            raise SettingsError(name, raw, "one of " + ", ".join(options))
        return raw

    def name(self, name: str, default: str) -> str:
        raw = self.text(name, default)
        if not raw.replace("-", "").replace("_", "").replace(":", "").isalnum():
            raise SettingsError(name, raw, "letters, digits, '-', '_' or ':'")
        return raw

    def url(self, name: str, schemes: tuple[str, ...]) -> str | None:
        raw = self.optional(name)
        if raw is None:
            return None
        parts = urlsplit(raw)
        if parts.scheme not in schemes or not (parts.netloc or parts.path):
            raise SettingsError(name, _redacted(raw), f"a URL starting with {schemes[0]}://")
        try:
            _ = parts.port
        except ValueError:
            raise SettingsError(name, _redacted(raw), "a URL with a port from 1 to 65535") from None
        return raw

    def paths(self, name: str) -> tuple[Path, ...]:
        raw = self.optional(name)
        if raw is None:
            return ()
        return tuple(Path(part).expanduser() for part in raw.split(":") if part)


def _redacted(url: str) -> str:
    """Never echo a password back in an error line."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(parts.password, "***")
    return url
