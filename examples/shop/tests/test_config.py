"""Settings from the environment, and the messages that name what is wrong."""

from __future__ import annotations

import pytest
from shop.config import Settings, SettingsError

BASE = {"DATABASE_URL": "postgresql://u@127.0.0.1:5432/shop", "JWT_SECRET": "s" * 32}


def test_minimal_environment_uses_the_defaults() -> None:
    settings = Settings.from_env(BASE)
    assert settings.redis_url is None and settings.payment_gateway_url is None and settings.smtp_host is None
    assert settings.nats_url is None and settings.shipping_url is None and settings.images_bucket is None
    assert settings.cors_origins == ()
    assert (settings.login_max_failures, settings.login_max_failures_per_ip, settings.login_failure_window_s) == (
        5, 20, 60)
    assert (settings.payment_timeout_s, settings.payment_breaker_cooldown_s, settings.bcrypt_rounds) == (
        2.0,
        30.0,
        12,
    )


def test_optional_settings_are_read() -> None:
    settings = Settings.from_env(
        {
            **BASE,
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "PAYMENT_GATEWAY_URL": "http://127.0.0.1:9000/",
            "PAYMENT_BREAKER_COOLDOWN_S": "0.5",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": "2525",
        }
    )
    assert settings.payment_gateway_url == "http://127.0.0.1:9000"  # no trailing slash
    assert (settings.payment_breaker_cooldown_s, settings.smtp_port) == (0.5, 2525)


def test_the_systems_settings_are_read() -> None:
    settings = Settings.from_env({
        **BASE,
        "NATS_URL": "nats://127.0.0.1:4222",
        "SHIPPING_URL": "http://127.0.0.1:8081/",
        "IMAGES_BUCKET": "product-images",
        "CORS_ORIGINS": " http://127.0.0.1:8080/ , https://shop.example.com",
        "LOGIN_MAX_FAILURES": "3",
    })
    assert (settings.nats_url, settings.shipping_url) == ("nats://127.0.0.1:4222", "http://127.0.0.1:8081")
    assert settings.images_bucket == "product-images"
    assert settings.cors_origins == ("http://127.0.0.1:8080", "https://shop.example.com")
    assert settings.login_max_failures == 3


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"JWT_SECRET": "x"},
            (
                "environment variable DATABASE_URL is required but is not set (or empty); "
                'set it in the service\'s env, e.g. `env = { DATABASE_URL = "..." }` in stackrig.toml'
            ),
        ),
        (
            {**BASE, "JWT_SECRET": ""},
            (
                "environment variable JWT_SECRET is required but is not set (or empty); "
                'set it in the service\'s env, e.g. `env = { JWT_SECRET = "..." }` in stackrig.toml'
            ),
        ),
        (
            {**BASE, "DATABASE_URL": "mysql://127.0.0.1/shop"},
            (
                "environment variable DATABASE_URL must be a URL with scheme postgresql or postgres, "
                "found 'mysql://127.0.0.1/shop' (scheme 'mysql'); fix the value, e.g. postgresql://127.0.0.1:PORT/..."
            ),
        ),
        (
            {**BASE, "PAYMENT_BREAKER_COOLDOWN_S": "soon"},
            (
                "environment variable PAYMENT_BREAKER_COOLDOWN_S must be float >= 0.0, found 'soon'; "
                "fix it or unset it to use the default 30.0"
            ),
        ),
        (
            {**BASE, "BCRYPT_ROUNDS": "2"},
            "environment variable BCRYPT_ROUNDS must be int >= 4, found '2'; fix it or unset it to use the default 12",
        ),
        (
            {**BASE, "NATS_URL": "http://127.0.0.1:4222"},
            (
                "environment variable NATS_URL must be a URL with scheme nats or tls, "
                "found 'http://127.0.0.1:4222' (scheme 'http'); fix the value, e.g. nats://127.0.0.1:PORT/..."
            ),
        ),
        (
            {**BASE, "CORS_ORIGINS": "http://127.0.0.1:8080/page"},
            (
                "environment variable CORS_ORIGINS must be comma-separated origins such as "
                "https://shop.example.com or http://127.0.0.1:8080, found 'http://127.0.0.1:8080/page'; "
                "an origin is a scheme and a host (and port), without a path"
            ),
        ),
        (
            {**BASE, "CORS_ORIGINS": "*"},
            (
                "environment variable CORS_ORIGINS must be comma-separated origins such as "
                "https://shop.example.com or http://127.0.0.1:8080, found '*'; "
                "an origin is a scheme and a host (and port), without a path"
            ),
        ),
    ],
    ids=["no-database-url", "empty-jwt-secret", "wrong-scheme", "not-a-number", "below-minimum", "nats-scheme",
         "origin-with-a-path", "wildcard-origin"],
)
def test_bad_environment_is_explained(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        Settings.from_env(env)
    assert str(error.value) == message
