"""The real `stackrig` CLI with the `scan` verb registered, for as long as `cli/_verbs.py` lacks it.

``python tests/scan/cli_harness.py scan ...`` is ``stackrig scan ...``; once `scan` is in ``VERBS``
this adds nothing and the tests could equally call ``python -m stackrig.cli``.
"""

from __future__ import annotations

from stackrig.cli import _verbs, main

if not any(name == "scan" for name, _, _, _ in _verbs.VERBS):
    _verbs.VERBS.insert(len(_verbs.VERBS) - 1, (
        "scan", "scan", "Scan a service for security flaws through its OpenAPI schema (Schemathesis + stackrig's "
        "checks).", False))

if __name__ == "__main__":
    main()
