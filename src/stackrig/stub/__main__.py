"""``python -m stackrig.stub --host 127.0.0.1 --port N --root DIR [--journal-limit N] [--record-upstream URL]``"""

from __future__ import annotations

from ._cli import main

raise SystemExit(main())
