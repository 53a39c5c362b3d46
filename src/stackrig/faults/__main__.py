"""``python -m stackrig.faults --api-port N [--config FILE.json]``"""

import sys

from ._server import main

sys.exit(main())
