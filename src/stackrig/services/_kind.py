"""What a service kind is: everything stackrig knows about one kind, in one object.

A kind lives in one folder (``stackrig/kinds/<name>/`` for the built-in ones, any package
for others) and exports a :class:`ServiceKind` that the ``stackrig.kinds`` entry-point group
names.  The core asks the kind; it never switches on a kind's name:

* ``spec`` — its stack-file keys (a :class:`~stackrig.config.ServiceSpec` subclass);
* ``service`` — how it becomes processes (a :class:`~stackrig.services.Service` subclass,
  whose ``binary_spec`` tells the providers what executable to find);
* ``clients`` — what ``rig`` hands tests for it, by capability (``"sql"`` → a psycopg
  connection), so ``rig.sql("db")`` works on any kind offering ``"sql"``;
* ``reset`` — its per-test isolation (:class:`TestReset`);
* ``slicer`` — how pytest-xdist workers share one server: each gets a :class:`Slice`;
* ``python_modules`` and ``summary`` — its rows in ``stackrig doctor`` and ``stackrig kinds``;
* ``compose`` — the container images it stands in for in a compose file (``postgres:13``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..config import ServiceSpec
    from ._providers import BinarySpec
    from ._service import Service

__all__ = ["ClientFactory", "Endpoint", "ResetFactory", "ServiceKind", "Slice", "Slicer", "TestReset"]


class Endpoint(Protocol):
    """A running service as a kind's client, reset or slicer sees it (tests' `rig["db"]`)."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def url(self) -> str:
        """What the code under test uses (through the fault proxy, when the service is behind it)."""
        ...

    @property
    def direct_url(self) -> str:
        """The test's back door: never through the fault proxy."""
        ...

    @property
    def attributes(self) -> Mapping[str, str]: ...

    @property
    def running(self) -> bool: ...

    def redirect(self, url: str | None) -> None:
        """Point the endpoint (and the clients tests get for it) at another URL for this test — a
        database cloned for it, say; None goes back."""
        ...


class TestReset:
    """One service's per-test isolation; every step is optional.

    ``before`` runs before each test (give it a fresh clone; may :meth:`Endpoint.redirect`),
    ``after`` after each test, after every fixture's teardown (put the baseline back; raise a
    :class:`~stackrig.errors.StackrigError` saying what could not be restored).  When ``after``
    raised and :meth:`still_dirty` is true, the next test is errored instead of run on data that
    is not the baseline.
    """

    __test__ = False  # not a pytest test class

    def before(self, test_id: str) -> None:
        """Before a test."""

    def after(self, test_id: str) -> None:
        """After a test."""

    def still_dirty(self) -> bool:
        """After a failed `after()`: is the service still off its baseline?"""
        return True

    def close(self) -> None:
        """At the end of the session."""


ClientFactory = Callable[["Endpoint"], Any]
ResetFactory = Callable[["ServiceSpec", "Endpoint"], "TestReset | None"]


@dataclass(frozen=True)
class Slice:
    """A pytest-xdist worker's share of a server the controller runs: its own URL (a database,
    a database index, a vhost) and the attributes that differ from the server's."""

    url: str
    attributes: Mapping[str, str] = field(default_factory=dict)


class Slicer(Protocol):
    def __call__(self, endpoint: Endpoint, worker_id: str, index: int) -> Slice:
        """The slice of `endpoint` for worker `worker_id` (``gw3``; `index` 3)."""
        ...


@dataclass(frozen=True)
class ServiceKind:
    """Everything about one kind of service (see the module docs)."""

    name: str  # `kind = "<name>"` in the stack file
    spec: type[ServiceSpec]
    service: type[Service]
    summary: str  # one line, for `stackrig kinds` and the docs
    clients: Mapping[str, ClientFactory] = field(default_factory=dict)
    reset: ResetFactory | None = None
    slicer: Slicer | None = None
    python_modules: Mapping[str, str] = field(default_factory=dict)  # import name -> what needs it
    docs: str = ""  # where its keys are documented
    # the container images it runs natively when a compose file names them: returns its
    # stackrig.compose.ComposeImage, imported only when a compose file is read (docs/compose.md)
    compose: Callable[[], Any] | None = None

    @property
    def binary(self) -> BinarySpec | None:
        return self.service.binary_spec

    @property
    def shared(self) -> bool:
        """Under pytest-xdist: one server for the run, a slice per worker (else: one per worker)."""
        return self.slicer is not None

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.strip():
            raise ValueError(f"a kind needs a name, found {self.name!r}")
