"""Settings, read once from the environment (12-factor).

Required: ``DATABASE_URL`` (postgresql://...), ``JWT_SECRET``.
Optional: ``REDIS_URL`` (no read cache and no login rate limit without it), ``NATS_URL`` (no
events without it: orders stay pending), ``PAYMENT_GATEWAY_URL`` (``/orders/{id}/pay`` answers
503 without it), ``SHIPPING_URL`` (free shipping without it), ``IMAGES_BUCKET`` (S3, through the
standard ``AWS_*`` variables; no image uploads without it), ``CORS_ORIGINS`` (comma-separated
origins allowed to call the API from a browser), ``SMTP_HOST`` / ``SMTP_PORT`` (no welcome
e-mail without them), ``PAYMENT_BREAKER_COOLDOWN_S`` (30), ``PAYMENT_TIMEOUT_S`` (2),
``SHIPPING_TIMEOUT_S`` (2), ``LOGIN_MAX_FAILURES`` (5 per e-mail), ``LOGIN_MAX_FAILURES_PER_IP``
(20), ``LOGIN_FAILURE_WINDOW_S`` (60), ``BCRYPT_ROUNDS`` (12), ``JWT_TTL_S`` (3600),
``DB_POOL_MAX`` (10), ``DB_POOL_TIMEOUT_S`` (3), ``SMTP_FROM``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

__all__ = ["Settings", "SettingsError"]

_T = TypeVar("_T", int, float)


class SettingsError(ValueError):
    """An environment variable is missing or malformed; the message names it and the fix."""


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    jwt_secret: str
    redis_url: str | None = None
    nats_url: str | None = None
    payment_gateway_url: str | None = None
    shipping_url: str | None = None
    images_bucket: str | None = None
    cors_origins: tuple[str, ...] = ()
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "shop@example.com"
    payment_timeout_s: float = 2.0
    payment_breaker_threshold: int = 3
    payment_breaker_cooldown_s: float = 30.0
    shipping_timeout_s: float = 2.0
    login_max_failures: int = 5
    login_max_failures_per_ip: int = 20
    login_failure_window_s: int = 60
    bcrypt_rounds: int = 12
    jwt_ttl_s: int = 3600
    db_pool_max: int = 10
    db_pool_timeout_s: float = 3.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=_url(env, "DATABASE_URL", ("postgresql", "postgres"), required=True) or "",
            jwt_secret=_required(env, "JWT_SECRET"),
            redis_url=_url(env, "REDIS_URL", ("redis", "rediss", "unix")),
            nats_url=_url(env, "NATS_URL", ("nats", "tls")),
            payment_gateway_url=_url(env, "PAYMENT_GATEWAY_URL", ("http", "https")),
            shipping_url=_url(env, "SHIPPING_URL", ("http", "https")),
            images_bucket=env.get("IMAGES_BUCKET") or None,
            cors_origins=_origins(env, "CORS_ORIGINS"),
            smtp_host=env.get("SMTP_HOST") or None,
            smtp_port=_number(env, "SMTP_PORT", int, 25, low=1),
            smtp_from=env.get("SMTP_FROM") or "shop@example.com",
            payment_timeout_s=_number(env, "PAYMENT_TIMEOUT_S", float, 2.0, low=0.01),
            payment_breaker_cooldown_s=_number(env, "PAYMENT_BREAKER_COOLDOWN_S", float, 30.0, low=0.0),
            shipping_timeout_s=_number(env, "SHIPPING_TIMEOUT_S", float, 2.0, low=0.01),
            login_max_failures=_number(env, "LOGIN_MAX_FAILURES", int, 5, low=1),
            login_max_failures_per_ip=_number(env, "LOGIN_MAX_FAILURES_PER_IP", int, 20, low=1),
            login_failure_window_s=_number(env, "LOGIN_FAILURE_WINDOW_S", int, 60, low=1),
            bcrypt_rounds=_number(env, "BCRYPT_ROUNDS", int, 12, low=4),
            jwt_ttl_s=_number(env, "JWT_TTL_S", int, 3600, low=1),
            db_pool_max=_number(env, "DB_POOL_MAX", int, 10, low=1),
            db_pool_timeout_s=_number(env, "DB_POOL_TIMEOUT_S", float, 3.0, low=0.1),
        )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise SettingsError(
            f"environment variable {name} is required but is not set (or empty); "
            f'set it in the service\'s env, e.g. `env = {{ {name} = "..." }}` in stackrig.toml'
        )
    return value


def _url(
    env: Mapping[str, str], name: str, schemes: tuple[str, ...], *, required: bool = False
) -> str | None:
    value = _required(env, name) if required else env.get(name, "")
    if not value:
        return None
    scheme = urlsplit(value).scheme
    if scheme not in schemes:
        raise SettingsError(
            f"environment variable {name} must be a URL with scheme {' or '.join(schemes)}, "
            f"found {value!r} (scheme {scheme!r}); fix the value, e.g. {schemes[0]}://127.0.0.1:PORT/..."
        )
    return value.rstrip("/") if scheme.startswith("http") else value


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    origins = []
    for raw in env.get(name, "").split(","):
        origin = raw.strip().rstrip("/")
        if not origin:
            continue
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise SettingsError(
                f"environment variable {name} must be comma-separated origins such as "
                f"https://shop.example.com or http://127.0.0.1:8080, found {raw.strip()!r}; "
                "an origin is a scheme and a host (and port), without a path"
            )
        origins.append(origin)
    return tuple(origins)


def _number(env: Mapping[str, str], name: str, kind: Callable[[str], _T], default: _T, *, low: _T) -> _T:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or value < low:
        kind_name = getattr(kind, "__name__", "number")
        raise SettingsError(
            f"environment variable {name} must be {kind_name} >= {low}, found {raw!r}; "
            f"fix it or unset it to use the default {default}"
        )
    return value
