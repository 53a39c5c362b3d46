"""stackrig's own log of a run (``<run>/logs/stackrig.log``): warnings and background failures."""

from __future__ import annotations

import os
import time

__all__ = ["RUN_LOG", "append_run_log"]

RUN_LOG = "stackrig.log"


def append_run_log(logs_dir: str | os.PathLike[str], message: str) -> None:
    """Append one timestamped entry (continuation lines indented); never raises."""
    try:
        with open(os.path.join(logs_dir, RUN_LOG), "a") as f:
            f.write(time.strftime("%H:%M:%S ") + message.replace("\n", "\n    ") + "\n")
    except OSError:
        pass
