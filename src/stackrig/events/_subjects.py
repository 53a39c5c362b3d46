"""The wildcard syntaxes of the brokers' subjects, for filtering what a tap captured.

Each is ``matches(pattern, subject) -> bool``: NATS (``.``-separated, ``*`` one token, ``>`` the
rest), MQTT (``/``-separated, ``+`` one level, ``#`` the rest), AMQP topic exchanges
(``.``-separated, ``*`` one word, ``#`` zero or more words), Redis channel patterns (glob), exact.
"""

from __future__ import annotations

import fnmatch
from functools import lru_cache

__all__ = ["exact", "nats_subject", "mqtt_topic", "amqp_topic", "glob"]


def exact(pattern: str, subject: str) -> bool:
    return pattern == subject


def nats_subject(pattern: str, subject: str) -> bool:
    p, s = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(p) == len(s)


def mqtt_topic(pattern: str, subject: str) -> bool:
    p, s = pattern.split("/"), subject.split("/")
    if subject.startswith("$") and pattern[:1] in ("+", "#"):
        return False  # $SYS topics do not match a leading wildcard
    for i, level in enumerate(p):
        if level == "#":
            return True
        if i >= len(s) or (level != "+" and level != s[i]):
            return False
    return len(p) == len(s)


@lru_cache(maxsize=256)
def _amqp_parts(pattern: str) -> tuple[str, ...]:
    return tuple(pattern.split(".")) if pattern else ()


def amqp_topic(pattern: str, subject: str) -> bool:
    words = tuple(subject.split(".")) if subject else ()
    parts = _amqp_parts(pattern)

    def walk(i: int, j: int) -> bool:
        while i < len(parts):
            part = parts[i]
            if part == "#":
                if i == len(parts) - 1:
                    return True
                return any(walk(i + 1, k) for k in range(j, len(words) + 1))
            if j >= len(words) or (part != "*" and part != words[j]):
                return False
            i, j = i + 1, j + 1
        return j == len(words)

    return walk(0, 0)


def glob(pattern: str, subject: str) -> bool:
    return fnmatch.fnmatchcase(subject, pattern)
