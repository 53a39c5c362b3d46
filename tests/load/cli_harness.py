"""The real `stackrig` CLI with the `load` verb registered, for as long as `cli/_verbs.py` lacks it.

``python tests/load/cli_harness.py load ...`` is ``stackrig load ...``; once `load` is in
``VERBS`` this adds nothing and the tests could equally call ``python -m stackrig.cli``.
"""

from __future__ import annotations

from stackrig.cli import _verbs, main

if not any(name == "load" for name, _, _, _ in _verbs.VERBS):
    _verbs.VERBS.insert(len(_verbs.VERBS) - 1, (
        "load", "load", "Run a Locust file headless against a service; check k6-style thresholds.", False))

if __name__ == "__main__":
    main()
