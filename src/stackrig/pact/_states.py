"""Provider states and message triggers: Python functions registered by the text they handle.

::

    from stackrig.pact import provider_state, trigger

    @provider_state("a product with id {id} exists")
    def product_exists(id: int, env, price_cents=1200):       # {id} from the text; price_cents a param
        with psycopg.connect(env["DATABASE_URL"]) as conn: ...

    @trigger("an order created event")
    def create_order(url):                                     # makes the provider publish it
        httpx.post(f"{url}/orders", json={...})

A ``{name}`` placeholder matches any text in the state (``a product with id 7 exists`` gives
``id="7"``, converted to ``int`` when the parameter is annotated ``int``); the state's own params
(``given("...", {"price_cents": 900})``) are passed too, by name.  A function takes only the
arguments it names, from: the placeholders, the state's params, ``params`` (all of them as one
dict), ``state`` (the text), and what the verification offers (``rig``, ``env`` — the stack's
exported variables —, ``url`` — the provider's URL —, ``services``).  A dict it returns goes back
to the verifier: values a pact injects with ``fromProviderState`` (``${token}``).

Where several patterns match, the one without placeholders wins, then the one with the most
literal text.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from ._errors import StatesModuleError

__all__ = ["Handler", "StateRegistry", "load_states", "provider_state", "registry", "trigger"]

F = TypeVar("F", bound=Callable[..., Any])
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Handler:
    """A registered function and the pattern it handles."""

    pattern: str
    func: Callable[..., Any]
    regex: re.Pattern[str]
    names: tuple[str, ...]
    provider: str | None

    @property
    def module(self) -> str:
        return str(getattr(self.func, "__module__", ""))

    @property
    def where(self) -> str:
        code = getattr(self.func, "__code__", None)
        loc = f"{Path(code.co_filename).name}:{code.co_firstlineno}" if code is not None else self.module
        return f"{getattr(self.func, '__qualname__', self.func)} ({loc})"

    def match(self, text: str) -> dict[str, str] | None:
        found = self.regex.fullmatch(text)
        return found.groupdict() if found is not None else None

    @property
    def rank(self) -> tuple[int, int]:
        return (0 if not self.names else 1, -len(_PLACEHOLDER.sub("", self.pattern)))

    def call(self, text: str, params: Mapping[str, Any], context: Mapping[str, Any]) -> Any:
        """Call the function with the arguments it names (see the module docs)."""
        extracted = self.match(text) or {}
        merged: dict[str, Any] = {**extracted, **params}
        offered: dict[str, Any] = {**context, "state": text, "params": merged, **merged}
        sig = inspect.signature(self.func)
        args: dict[str, Any] = {}
        for name, param in sig.parameters.items():
            if param.kind is param.VAR_KEYWORD:
                args.update({k: v for k, v in merged.items() if k not in args and k not in sig.parameters})
                continue
            if param.kind in (param.VAR_POSITIONAL, param.POSITIONAL_ONLY):
                continue
            if name in offered:
                value = offered[name]
                if name in extracted and name not in params:
                    value = _convert(value, param.annotation)
                args[name] = value
            elif param.default is param.empty:
                raise TypeError(f"{self.where} needs the argument '{name}', which is neither a {{placeholder}} "
                                f"of '{self.pattern}' nor a param of the state ({', '.join(merged) or 'none'}) "
                                f"nor one of {', '.join(sorted(context))}")
        return self.func(**args)


def _convert(value: str, annotation: Any) -> Any:
    kind = annotation if isinstance(annotation, type) else {"int": int, "float": float, "bool": bool}.get(
        str(annotation), None)
    try:
        if kind is bool:
            return value.lower() in ("1", "true", "yes")
        if kind in (int, float):
            return kind(value)
    except ValueError:
        return value
    return value


def _compile(pattern: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    parts = _PLACEHOLDER.split(pattern)
    regex = ""
    names: list[str] = []
    for i, part in enumerate(parts):
        if i % 2:
            regex += f"(?P<{part}>.+?)" if part not in names else f"(?P={part})"
            names.append(part)
        else:
            regex += re.escape(part)
    return re.compile(regex, re.DOTALL), tuple(dict.fromkeys(names))


class StateRegistry:
    """Registered provider states and triggers (the module-level :data:`registry` is the default)."""

    def __init__(self, states: Iterable[Handler] = (), triggers: Iterable[Handler] = ()) -> None:
        self.states: list[Handler] = list(states)
        self.triggers: list[Handler] = list(triggers)

    def _register(self, into: list[Handler], pattern: str, provider: str | None) -> Callable[[F], F]:
        if not isinstance(pattern, str) or not pattern.strip():
            raise TypeError(f"a provider state or trigger needs its text, found {pattern!r}")

        def decorate(func: F) -> F:
            regex, names = _compile(pattern)
            into[:] = [h for h in into if not (h.pattern == pattern and h.provider == provider)]  # re-import
            into.append(Handler(pattern, func, regex, names, provider))
            return func

        return decorate

    def provider_state(self, pattern: str, *, provider: str | None = None) -> Callable[[F], F]:
        """Register the decorated function for the states `pattern` matches (``{name}`` placeholders);
        `provider` limits it to pacts with that provider name."""
        return self._register(self.states, pattern, provider)

    def trigger(self, pattern: str, *, provider: str | None = None) -> Callable[[F], F]:
        """Register the decorated function as what makes the provider publish the messages whose
        description `pattern` matches."""
        return self._register(self.triggers, pattern, provider)

    @staticmethod
    def _find(handlers: list[Handler], text: str, provider: str | None) -> Handler | None:
        found = [h for h in handlers if (h.provider is None or h.provider == provider) and h.match(text) is not None]
        return min(found, key=lambda h: h.rank) if found else None

    def find_state(self, text: str, provider: str | None = None) -> Handler | None:
        return self._find(self.states, text, provider)

    def find_trigger(self, description: str, provider: str | None = None) -> Handler | None:
        return self._find(self.triggers, description, provider)

    def only(self, modules: Iterable[str]) -> StateRegistry:
        """The handlers registered by these modules."""
        wanted = set(modules)
        return StateRegistry([h for h in self.states if h.module in wanted],
                             [h for h in self.triggers if h.module in wanted])

    def __add__(self, other: StateRegistry) -> StateRegistry:
        states = [*self.states, *(h for h in other.states if h not in self.states)]
        return StateRegistry(states, [*self.triggers, *(h for h in other.triggers if h not in self.triggers)])

    def describe_states(self) -> list[str]:
        return [f"{h.pattern}  ->  {h.where}" for h in self.states]

    def describe_triggers(self) -> list[str]:
        return [f"{h.pattern}  ->  {h.where}" for h in self.triggers]


registry = StateRegistry()
provider_state = registry.provider_state
trigger = registry.trigger


def _import(spec: str, root: Path | None) -> ModuleType:
    looks_like_path = spec.endswith(".py") or "/" in spec or "\\" in spec
    if looks_like_path:
        path = Path(spec)
        if not path.is_absolute() and root is not None:
            path = root / path
        path = path.resolve()
        if not path.is_file():
            raise StatesModuleError(f"provider-states module {spec}: no such file ({path})", module=spec,
                                    hint="name a .py file (relative to the stack file) or an importable module")
        name = f"stackrig_pact_states_{abs(hash(str(path))):x}"
        if name in sys.modules:
            return sys.modules[name]
        loader_spec = importlib.util.spec_from_file_location(name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise StatesModuleError(f"provider-states module {spec} cannot be loaded", module=spec)
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[name] = module
        folder = str(path.parent)
        added = folder not in sys.path
        if added:
            sys.path.insert(0, folder)  # its own helpers import as in a test folder
        try:
            loader_spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        finally:
            if added:
                sys.path.remove(folder)
        return module
    if root is not None and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(spec)


def load_states(specs: Iterable[str | ModuleType | StateRegistry], root: Path | None = None) -> StateRegistry:
    """The handlers of the named modules (module names, or .py paths relative to `root`), of modules
    given as objects, and of registries given as such."""
    out = StateRegistry()
    for spec in specs:
        if isinstance(spec, StateRegistry):
            out = out + spec
            continue
        if isinstance(spec, ModuleType):
            out = out + registry.only([spec.__name__])
            continue
        try:
            module = _import(spec, root)
        except StatesModuleError:
            raise
        except Exception as exc:  # noqa: BLE001 - the user's module: say which and why
            raise StatesModuleError(f"provider-states module {spec} could not be imported: "
                                    f"{type(exc).__name__}: {exc}", module=spec,
                                    hint="fix the module (run `python -c 'import ...'` to see the traceback)") from exc
        out = out + registry.only([module.__name__])
    return out
