"""Which kind runs which image: asked of every registered kind, never known by name here.

Each kind may expose a :class:`~stackrig.compose.ComposeImage` (its ``compose`` hook, or, until
:class:`~stackrig.services.ServiceKind` carries that field, a ``_compose`` module beside the kind's
entry point).  Asking means importing every kind (~0.1 s here), so the answers — image repository
→ kind, and which kind runs plain commands — are cached under the cache dir, keyed on the
registered kinds and the modification time of each kind's mapping module; a compose file then
imports only the kinds it uses.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._hook import ComposeImage

__all__ = ["ImageIndex", "image_index", "image_of_kind"]

_FORMAT = 1
_lock = threading.Lock()
_memo: dict[str, ImageIndex] = {}
_COMMAND_KEYS = {"command", "cwd", "port", "env", "ready", "build", "replicas"}


@dataclass(frozen=True)
class ImageIndex:
    images: dict[str, str]  # repository -> kind name
    command_kind: str | None  # the kind that runs any command (its spec has command, cwd, port, build, ...)


def _origin_module(origin: str) -> str:
    """``stackrig.kinds.postgres:KIND (stackrig)`` → ``stackrig.kinds.postgres``."""
    return origin.split(" (", 1)[0].partition(":")[0]


def _mapping_modules(module: str) -> Iterator[str]:
    yield f"{module}._compose"
    if "." in module:
        yield f"{module.rsplit('.', 1)[0]}._compose"  # a kind registered by its service module


def _module_file(name: str) -> Path | None:
    """Where module `name` would be, without importing it (its parent packages' folders)."""
    top, _, rest = name.partition(".")
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(list(spec.submodule_search_locations)[0])
    parts = rest.split(".") if rest else []
    candidate = base.joinpath(*parts[:-1], parts[-1] + ".py") if parts else None
    return candidate if candidate is not None and candidate.is_file() else None


def image_of_kind(kind: object) -> ComposeImage | None:
    """A kind's ComposeImage: its `compose` hook, else its `_compose` module's IMAGE."""
    from ._hook import ComposeImage

    hook = getattr(kind, "compose", None)
    if callable(hook):
        found = hook()
        return found if isinstance(found, ComposeImage) else None
    from ..services import registry

    name = getattr(kind, "name", "")
    reg = registry()
    if name not in reg:
        return None
    for module in _mapping_modules(_origin_module(reg.origin(name))):
        if _module_file(module) is None:
            continue
        try:
            image = getattr(importlib.import_module(module), "IMAGE", None)
        except ImportError:
            continue
        if isinstance(image, ComposeImage):
            return image
    return None


def _key() -> list[object]:
    from ..services import registry

    reg = registry()
    key: list[object] = [_FORMAT]
    for name in reg.names():
        origin = reg.origin(name)
        stamps = []
        for module in _mapping_modules(_origin_module(origin)):
            f = _module_file(module)
            stamps.append(f.stat().st_mtime_ns if f is not None else None)
        key.append([name, origin, stamps])
    return key


def _scan() -> ImageIndex:
    import msgspec

    from ..services import registry

    images: dict[str, str] = {}
    command_kind: str | None = None
    for kind in registry().all():
        image = image_of_kind(kind)
        if image is not None:
            for repo in image.images:
                images.setdefault(repo.lower(), kind.name)
        fields = {f.name for f in msgspec.structs.fields(kind.spec)}
        if command_kind is None and _COMMAND_KEYS <= fields:
            command_kind = kind.name
    return ImageIndex(images, command_kind)


def image_index() -> ImageIndex:
    """The index for the registered kinds (memoised per process, cached on disk)."""
    from .._paths import cache_dir

    key = _key()
    memo_key = json.dumps(key, default=str)
    with _lock:
        if memo_key in _memo:
            return _memo[memo_key]
    cache = cache_dir() / "compose-images.json"
    found: ImageIndex | None = None
    if os.environ.get("STACKRIG_KIND_CACHE", "1") not in ("0", "off", "no"):
        try:
            data = json.loads(cache.read_text())
            if data.get("key") == json.loads(memo_key):
                found = ImageIndex(dict(data["images"]), data.get("command_kind"))
        except (OSError, ValueError, KeyError, TypeError):
            found = None
    if found is None:
        found = _scan()
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps({"key": json.loads(memo_key), "images": found.images,
                                       "command_kind": found.command_kind}))
            tmp.replace(cache)
        except OSError:
            pass
    with _lock:
        _memo[memo_key] = found
    return found
