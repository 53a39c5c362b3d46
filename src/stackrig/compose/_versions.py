"""An image tag is a version *preference*: the nearest available version runs, with a warning.

``postgres:13`` on a machine with PostgreSQL 15 and 18 runs 15 and says so; ``--strict-versions``
(``STACKRIG_STRICT_VERSIONS=1``) makes that an error instead.  "Nearest" compares the release
numbers component by component from the major one; between two equally near, the newer wins.
The kind's providers are asked through its binary spec (paths, system, wheels; versions cached), so
the run picks the same executable.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ConfigError

__all__ = ["Preference", "prefer", "strict_from_env"]


@dataclass(frozen=True)
class Preference:
    constraint: str | None  # what the stack file's `version` says for the run (None: any)
    warning: str | None = None


def strict_from_env() -> bool:
    return os.environ.get("STACKRIG_STRICT_VERSIONS", "").lower() in ("1", "true", "yes", "on")


def _distance(wanted: tuple[int, ...], have: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    for i, w in enumerate(wanted):
        h = have[i] if i < len(have) else 0
        out.append(abs(h - w))
        if h != w:
            break
    return tuple(out)


def prefer(kind: object, wanted: str, *, service: str, image: str, strict: bool,
           error: Callable[[str, str], ConfigError]) -> Preference:
    """The constraint that runs `wanted` or the nearest version the kind's providers have."""
    from packaging.version import Version

    from ..config import parse_version_constraint
    from ..services import binary_version, candidates

    spec = getattr(kind, "binary", None)
    if spec is None:
        return Preference(None)
    try:
        constraint = parse_version_constraint(wanted)
    except ValueError:
        return Preference(None)
    found: list[tuple[Version, str]] = []
    for exe, source in candidates(spec):
        v = binary_version(exe, spec)
        if v is not None:
            found.append((v, source))
    if not found:
        return Preference(None)  # the run says what is missing and how to install it
    if any(constraint.contains(v, prereleases=True) for v, _ in found):
        return Preference(wanted)
    w = tuple(int(p) for p in wanted.split("."))
    best_v, best_source = min(found, key=lambda vs: (_distance(w, vs[0].release), [-p for p in vs[0].release]))
    available = ", ".join(f"{v} ({s})" for v, s in found)
    if strict:
        raise error(f"service '{service}': image {image} asks for {spec.name} {wanted}, which is not available "
                    f"here (found: {available})",
                    f"install {spec.name} {wanted} ({spec.install_hint()}), or run without --strict-versions to use "
                    f"the nearest ({best_v})")
    return Preference(str(best_v), f"service '{service}': image {image} asks for {spec.name} {wanted}; running "
                                   f"{best_v} ({best_source}), the nearest available (--strict-versions refuses this)")
