"""Where RabbitMQ and the Erlang runtime that runs it are installed, without running either.

A RabbitMQ installation ("home") is a folder holding ``plugins/rabbit-X.Y.Z/ebin/rabbit.app``
(the generic Unix layout every package uses): Debian/Ubuntu/RPM put it in
``/usr/lib/rabbitmq/lib/rabbitmq_server-X.Y.Z``, Homebrew in ``<prefix>/opt/rabbitmq/libexec``.
Its version is the ``vsn`` of ``rabbit.app``; the Erlang runtime is the one ``erl`` on ``PATH``
resolves to (or Homebrew's / Debian's ``lib/erlang``), its release read from
``releases/*/OTP_VERSION``.  Nothing is executed: RabbitMQ's own scripts have no cheap
``--version`` (``rabbitmqctl version`` starts an Erlang VM and an ``epmd -daemon`` on port 4369,
and Debian's ``/usr/sbin/rabbitmq-server`` is a wrapper that starts the system broker).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from ...errors import ProviderNotFound

__all__ = ["Erlang", "RabbitInstall", "find_install", "find_erlang", "HOME_GLOBS", "INSTALL_HINT",
           "home_version"]

# Newest first within each glob (sorted in reverse).
HOME_GLOBS = (
    "/usr/lib/rabbitmq/lib/rabbitmq_server-*",          # Debian, Ubuntu, RPM packages
    "/opt/homebrew/opt/rabbitmq/libexec",               # Homebrew (Apple silicon)
    "/usr/local/opt/rabbitmq/libexec",                  # Homebrew (Intel), Linuxbrew-style prefixes
    "/home/linuxbrew/.linuxbrew/opt/rabbitmq/libexec",  # Linuxbrew
    "/opt/homebrew/Cellar/rabbitmq/*/libexec",
    "/usr/local/Cellar/rabbitmq/*/libexec",
    "/opt/rabbitmq",                                    # the generic Unix tarball, unpacked
    "/opt/rabbitmq_server-*",
    "/usr/local/lib/rabbitmq_server-*",
)
ERLANG_ROOTS = (
    "/usr/lib/erlang",
    "/usr/lib64/erlang",
    "/opt/homebrew/opt/erlang/lib/erlang",
    "/usr/local/opt/erlang/lib/erlang",
    "/home/linuxbrew/.linuxbrew/opt/erlang/lib/erlang",
    "/usr/local/lib/erlang",
)
INSTALL_HINT = "apt-get install rabbitmq-server, or brew install rabbitmq (it brings Erlang)"
_VSN = re.compile(rb'\{\s*vsn\s*,\s*"([^"]+)"')


@dataclass(frozen=True)
class Erlang:
    """An Erlang/OTP installation: ``<root>/erts-V/bin/erlexec`` and its tools."""

    root: Path
    erts: Path  # <root>/erts-13.1.5
    otp: str  # "25.2.3"

    @property
    def bindir(self) -> Path:
        return self.erts / "bin"

    @property
    def erlexec(self) -> Path:
        return self.bindir / "erlexec"

    @property
    def epmd(self) -> Path:
        return self.bindir / "epmd"

    @property
    def erlc(self) -> Path:
        found = self.bindir / "erlc"
        return found if found.exists() else self.root / "bin" / "erlc"

    @property
    def major(self) -> int:
        try:
            return int(self.otp.split(".")[0])
        except ValueError:
            return 0

    def env(self) -> dict[str, str]:
        """What `erl` (a shell script) exports before it execs `erlexec`."""
        return {"ROOTDIR": str(self.root), "BINDIR": str(self.bindir), "EMU": "beam", "PROGNAME": "erl"}


@dataclass(frozen=True)
class RabbitInstall:
    """A RabbitMQ installation and the Erlang that runs it."""

    home: Path
    version: Version
    erlang: Erlang
    source: str  # "system", "stack file", "RABBITMQ_HOME"

    @property
    def plugins(self) -> Path:
        return self.home / "plugins"

    def app_dir(self, app: str) -> Path | None:
        """``plugins/<app>-<vsn>`` (the newest when several are there)."""
        found = sorted(self.plugins.glob(f"{app}-*"), reverse=True)
        for d in found:
            if (d / "ebin" / f"{app}.app").exists():
                return d
        return None


def home_version(home: Path) -> Version | None:
    """The RabbitMQ version of `home` (the `vsn` of plugins/rabbit-*/ebin/rabbit.app), or None."""
    for app in sorted(home.glob("plugins/rabbit-*/ebin/rabbit.app"), reverse=True):
        try:
            m = _VSN.search(app.read_bytes())
        except OSError:
            continue
        if m:
            try:
                return Version(m.group(1).decode())
            except InvalidVersion:
                continue
    return None


def _otp_version(root: Path) -> str | None:
    for f in sorted(root.glob("releases/*/OTP_VERSION"), reverse=True):
        try:
            return f.read_text().strip()
        except OSError:
            continue
    return None


def _erlang_at(root: Path) -> Erlang | None:
    erts = sorted(root.glob("erts-*/bin/erlexec"), reverse=True)
    otp = _otp_version(root)
    if not erts or otp is None:
        return None
    return Erlang(root=root, erts=erts[0].parent.parent, otp=otp)


def find_erlang(home: Path | None = None) -> Erlang | None:
    """The Erlang runtime: an Erlang bundled in the RabbitMQ folder, `erl` on PATH, the usual roots."""
    roots: list[Path] = []
    if home is not None:
        roots += [home / "erlang", home.parent / "erlang"]
    erl = shutil.which("erl")
    if erl:
        real = Path(erl).resolve()
        roots.append(real.parent.parent)  # <root>/bin/erl
    roots += [Path(r) for r in ERLANG_ROOTS]
    seen: set[Path] = set()
    for root in roots:
        if root in seen or not root.is_dir():
            continue
        seen.add(root)
        found = _erlang_at(root)
        if found is not None:
            return found
    return None


def _from_path(value: str, root: Path) -> list[Path]:
    p = Path(os.path.expanduser(value))
    if not p.is_absolute():
        p = root / p
    if p.is_file():  # .../sbin/rabbitmq-server
        p = p.parent
    return [p, p.parent, p / "libexec"]  # the home, its sbin/, or a Homebrew prefix


def _candidates(path: str | None, root: Path) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    if path:
        found += [(p, "stack file") for p in _from_path(path, root)]
    env = os.environ.get("RABBITMQ_HOME")
    if env:
        found.append((Path(env), "RABBITMQ_HOME"))
    for pattern in HOME_GLOBS:
        for d in sorted(glob.glob(pattern), reverse=True):
            found.append((Path(d), "system"))
    return found


def find_install(*, service: str, version: str | None, path: str | None, root: Path) -> RabbitInstall:
    """The first RabbitMQ installation that satisfies `version` (a stack-file constraint), with its
    Erlang, or :class:`ProviderNotFound` listing where it looked.  Order: the stack file's `path`,
    ``RABBITMQ_HOME``, the package folders (:data:`HOME_GLOBS`)."""
    from ...config import parse_version_constraint

    wanted = parse_version_constraint(version) if version else None
    tried: list[str] = []
    seen: set[Path] = set()
    path_found = False
    for home, source in _candidates(path, root):
        try:
            real = home.resolve()
        except OSError:
            continue
        if real in seen:
            continue
        seen.add(real)
        v = home_version(real)
        if v is None:
            if source == "RABBITMQ_HOME":
                tried.append(f"{home} (RABBITMQ_HOME): not a RabbitMQ installation "
                             "(no plugins/rabbit-*/ebin/rabbit.app)")
            continue
        path_found = path_found or source == "stack file"
        if wanted is not None and not wanted.contains(v, prereleases=True):
            tried.append(f"{real} ({source}): RabbitMQ {v} does not satisfy {version!r}")
            continue
        erlang = find_erlang(real)
        if erlang is None:
            tried.append(f"{real} ({source}): RabbitMQ {v}, but no Erlang runtime (erl on PATH, "
                         f"{', '.join(ERLANG_ROOTS[:3])}, ...)")
            continue
        return RabbitInstall(home=real, version=v, erlang=erlang, source=source)
    if path and not path_found:
        tried.insert(0, f"{path} (stack file `path`): not a RabbitMQ installation "
                        "(no plugins/rabbit-*/ebin/rabbit.app there, nor in its parent or libexec/)")
    if not tried:
        tried.append(f"{', '.join(HOME_GLOBS[:3])}, ... and RABBITMQ_HOME: no RabbitMQ installation")
    want = f" {version!r}" if version else ""
    hint = INSTALL_HINT
    if path:
        hint += "; or point `path` at the RabbitMQ folder (the one holding plugins/ and sbin/)"
    if version:
        hint += f"; or relax `version = {version!r}`"
    raise ProviderNotFound(f"service '{service}': no rabbitmq server{want} found", service=service, tried=tried,
                           hint=hint)
