"""Test-data factories bound to a stack's database.

``rig.factory(UserFactory)`` points a factory_boy ``SQLAlchemyModelFactory`` —
and every factory it reaches through ``SubFactory``/``RelatedFactory`` — at a
SQLAlchemy session on the service's database, with ``commit`` persistence, so
the app under test (another process) sees the rows.  No clean-up is needed:
the per-test reset removes them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["bind_factory"]


def _targets(factory_cls: Any) -> list[Any]:
    """Factories a factory_boy factory reaches through its declarations."""
    found = []
    meta = factory_cls._meta
    for decl in list(meta.pre_declarations.declarations.values()) + list(meta.post_declarations.declarations.values()):
        get = getattr(decl, "get_factory", None)
        if get is not None:
            try:
                found.append(get())
            except Exception:  # a lazy reference that cannot be imported yet
                continue
    return found


def bind_factory(factory_cls: Any, session: Any) -> Any:
    """Bind `factory_cls` (and what it reaches) to `session`; returns `factory_cls`."""
    seen: set[int] = set()

    def bind(f: Any) -> None:
        if id(f) in seen:
            return
        seen.add(id(f))
        meta = getattr(f, "_meta", None)
        if meta is not None and hasattr(meta, "sqlalchemy_session_persistence"):
            meta.sqlalchemy_session_factory = None
            meta.sqlalchemy_session = session
            meta.sqlalchemy_session_persistence = "commit"
            for target in _targets(f):
                bind(target)
        elif meta is not None and hasattr(meta, "pre_declarations"):
            for target in _targets(f):  # a plain Factory that builds SQLAlchemy ones
                bind(target)
        else:
            from ..errors import StackrigError

            raise StackrigError(
                f"rig.factory({getattr(f, '__name__', f)!r}): expected a factory_boy SQLAlchemyModelFactory",
                hint="derive the factory from factory.alchemy.SQLAlchemyModelFactory with Meta.model set")

    bind(factory_cls)
    return factory_cls
