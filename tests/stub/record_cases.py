"""Record the expectations of ``cases_src/*.json`` from a real WireMock into ``cases/``.

    python tests/stub/record_cases.py http://127.0.0.1:PORT   # a WireMock 3.13.2 started by hand

Uses the replay engine of the shared conformance checker, so recorded and checked results are
normalised the same way.  Each case is recorded twice; a case whose two runs differ is refused.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKER = HERE.parents[1].parent / "shared" / "conformance" / "wiremock"


def main(base_url: str) -> int:
    sys.path.insert(0, str(CHECKER))
    import check  # type: ignore[import-not-found]

    target = check.Target(base_url)
    out = HERE / "cases"
    out.mkdir(exist_ok=True)
    bad = 0
    for src in sorted((HERE / "cases_src").glob("*.json")):
        case = json.loads(src.read_text())
        first, second = check.run_case(target, case), check.run_case(target, case)
        if first != second:
            print(f"UNSTABLE {case['name']}: {first} != {second}")
            bad += 1
            continue
        for step, result in zip(case["steps"], first, strict=True):
            step["expect"] = result
        (out / src.name).write_text(json.dumps(case, indent=1, ensure_ascii=False) + "\n")
        print(f"recorded {case['name']}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
