"""`python -m stackrig.load SPEC.json`: the load generator process (Locust, monkey-patched by gevent)."""

import sys

from ._child import main

sys.exit(main(sys.argv[1:]))
