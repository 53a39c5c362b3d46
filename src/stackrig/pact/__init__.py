"""Contracts: Pact V4 files written from stubs and taps, and verified against real providers.

* **Consumer pacts from stubs**: an ``http-stub`` service with ``pact = { consumer, provider }``
  records one interaction per stub mapping the consumer's calls matched
  (:func:`interactions_from_journal`, merged across processes by :func:`record_interactions`).
* **Message pacts from taps**: :func:`record_messages` writes what a tap captured as
  ``Asynchronous/Messages`` interactions.
* **Provider verification**: :func:`verify_pacts` runs pact-python's Rust verifier against a URL,
  serving provider states (``@provider_state``) and message triggers (``@trigger``) from this
  process and resetting the stack's data before every interaction; :func:`verify_with_rig` takes
  all of that from a running stack (``stackrig pact verify``, ``rig.pact_verify``).

V2, V3 and V4 pact files are read (:func:`load_pact`); files are written in V4.  See docs/pact.md.
Imports are lazy (PEP 562): a stub service with a pact loads only the writer.
"""

from __future__ import annotations

from .._lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._errors import (
        PactError as PactError,
        PactFileError as PactFileError,
        PactUsageError as PactUsageError,
        PactVerificationFailed as PactVerificationFailed,
        ProviderUnreachable as ProviderUnreachable,
        StatesModuleError as StatesModuleError,
        UnknownProviderState as UnknownProviderState,
        UnknownTrigger as UnknownTrigger,
    )
    from ._from_stub import (
        interactions_from_journal as interactions_from_journal,
        mapping_key as mapping_key,
    )
    from ._messages import (
        message_interaction as message_interaction,
        message_interactions as message_interactions,
        record_messages as record_messages,
    )
    from ._model import (
        Interaction as Interaction,
        Pact as Pact,
        ProviderState as ProviderState,
        load_pact as load_pact,
    )
    from ._on_rig import (
        STATES_ENV as STATES_ENV,
        configured_states as configured_states,
        states_for as states_for,
        verify_with_rig as verify_with_rig,
    )
    from ._report import (
        InteractionResult as InteractionResult,
        Mismatch as Mismatch,
        VerificationReport as VerificationReport,
    )
    from ._rules import (
        mismatches as mismatches,
    )
    from ._states import (
        StateRegistry as StateRegistry,
        load_states as load_states,
        provider_state as provider_state,
        registry as registry,
        trigger as trigger,
    )
    from ._verify import (
        check_pacts as check_pacts,
        check_reachable as check_reachable,
        load_pacts as load_pacts,
        verify_pacts as verify_pacts,
    )
    from ._write import (
        SESSION_ENV as SESSION_ENV,
        pact_document as pact_document,
        record_interactions as record_interactions,
        session_files as session_files,
        session_token as session_token,
        set_session as set_session,
        write_pact as write_pact,
    )

_EXPORTS = {
    "PactError": "._errors", "PactFileError": "._errors", "PactUsageError": "._errors",
    "PactVerificationFailed": "._errors", "ProviderUnreachable": "._errors", "StatesModuleError": "._errors",
    "UnknownProviderState": "._errors", "UnknownTrigger": "._errors",
    "interactions_from_journal": "._from_stub", "mapping_key": "._from_stub",
    "message_interaction": "._messages", "message_interactions": "._messages", "record_messages": "._messages",
    "Interaction": "._model", "Pact": "._model", "ProviderState": "._model", "load_pact": "._model",
    "STATES_ENV": "._on_rig", "configured_states": "._on_rig", "states_for": "._on_rig",
    "verify_with_rig": "._on_rig",
    "InteractionResult": "._report", "Mismatch": "._report", "VerificationReport": "._report",
    "mismatches": "._rules",
    "StateRegistry": "._states", "load_states": "._states", "provider_state": "._states", "registry": "._states",
    "trigger": "._states",
    "check_pacts": "._verify", "check_reachable": "._verify", "load_pacts": "._verify", "verify_pacts": "._verify",
    "SESSION_ENV": "._write", "pact_document": "._write", "record_interactions": "._write",
    "session_files": "._write", "session_token": "._write", "set_session": "._write", "write_pact": "._write",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
