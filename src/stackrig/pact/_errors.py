"""The pact engine's errors, all under :class:`~stackrig.errors.StackrigError`.

::

    PactError                        something about contracts went wrong (exit 1)
    ├── PactUsageError               the input is wrong: fix it, then run again (exit 2)
    │   ├── PactFileError            a pact file that cannot be read, is not JSON, or is not a pact
    │   ├── UnknownProviderState     a state no registered function handles
    │   ├── UnknownTrigger           a message interaction no registered trigger publishes
    │   └── StatesModuleError        the provider-states module cannot be imported
    ├── ProviderUnreachable          the provider (or the broker) is not running / not answering
    └── PactVerificationFailed       (also AssertionError) interactions did not hold — pytest's failure
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import StackrigError

__all__ = [
    "PactError",
    "PactFileError",
    "PactUsageError",
    "PactVerificationFailed",
    "ProviderUnreachable",
    "StatesModuleError",
    "UnknownProviderState",
    "UnknownTrigger",
]


class PactError(StackrigError):
    """Base of the pact engine's errors."""


class PactUsageError(PactError):
    """A mistake in what was given (a file, a state, a module): the CLI exits 2."""


class PactFileError(PactUsageError):
    """A pact file that cannot be read, is not JSON, or is not a pact."""

    def __init__(self, message: str, *, file: str, hint: str | None = None) -> None:
        self.file = file
        super().__init__(f"{file}: {message}", hint=hint)


def _listing(registered: Sequence[str]) -> str:
    if not registered:
        return "  (none registered)"
    return "\n".join(f"  - {p}" for p in registered)


class UnknownProviderState(PactUsageError):
    """An interaction's provider state that no ``@provider_state`` function handles."""

    def __init__(self, state: str, *, registered: Sequence[str], files: Sequence[str],
                 interactions: Sequence[str]) -> None:
        self.state = state
        self.registered = list(registered)
        self.files = list(files)
        self.interactions = list(interactions)
        where = ", ".join(dict.fromkeys(self.files))
        used = "; ".join(f"'{d}'" for d in list(dict.fromkeys(self.interactions))[:5])
        super().__init__(
            f"no provider state function for '{state}' (in {where}, interaction {used}); registered states:\n"
            f"{_listing(self.registered)}",
            hint="register it in the states module: @provider_state(\"" + state.replace('"', '\\"')
                 + "\") (use {name} for the parts that vary), or pass the module with --states")


class UnknownTrigger(PactUsageError):
    """A message interaction with no ``@trigger`` function to make the provider publish it."""

    def __init__(self, description: str, *, registered: Sequence[str], file: str) -> None:
        self.description = description
        self.registered = list(registered)
        self.file = file
        super().__init__(
            f"no trigger for the message '{description}' (in {file}); registered triggers:\n"
            f"{_listing(self.registered)}",
            hint="register a function that makes the provider publish it: @trigger(\""
                 + description.replace('"', '\\"') + "\")")


class StatesModuleError(PactUsageError):
    """The provider-states module named in the stack file or on the command line cannot be loaded."""

    def __init__(self, message: str, *, module: str, hint: str | None = None) -> None:
        self.module = module
        super().__init__(message, hint=hint)


class ProviderUnreachable(PactError):
    """The provider to verify (or the broker to watch) does not answer."""

    def __init__(self, message: str, *, service: str, url: str, hint: str | None = None) -> None:
        self.service = service
        self.url = url
        super().__init__(message, hint=hint)


class PactVerificationFailed(PactError, AssertionError):
    """Some interactions did not hold (raised by the pytest helpers; the CLI prints and exits 1)."""

    def __init__(self, message: str, *, failed: int, total: int) -> None:
        self.failed = failed
        self.total = total
        super().__init__(message)
