"""Provider verification: stackrig's `verify_with_rig` against pact-python's verifier driven by hand.

    python benchmarks/pact.py [--runs 7] [--interactions 20]

One real provider stack (PostgreSQL with a users table, Redis, the users service of
tests/pact/provider — a process answering GET /users/{id} from the database) is brought up once.
A V4 pact of `--interactions` interactions is written (each with a provider state that inserts a
user — "user N exists" —, every fifth "no users exist" expecting a 404, so without the reset
between interactions the pact fails).  Then, interleaved, `--runs` times each after a warm-up:

(a) stackrig: ``verify_with_rig(rig, [pact], provider="users", states=..., reset=...)`` — pre-checks
    the pact, serves the state endpoint itself, calls the state functions (registered with
    ``@provider_state("user {id} exists")``), runs the Rust verifier;
(b) by hand: pact-python's ``Verifier`` with a hand-written state endpoint (``http.server``, one
    write per answer and TCP_NODELAY, as stackrig's) that parses the state with a regex and inserts
    the row with the same SQL.

Both reset the data before every interaction with the same in-process reset (stackrig's `Resets`,
what runs between two pytest tests: the changed tables back to the baseline, Redis flushed), and
both keep the Rust core's printed report out of the terminal.  Wall time of the whole verification,
medians.  Target: a/b <= 1.2.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

os.environ["PACT_DO_NOT_TRACK"] = "true"
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import machine, median, table, today  # noqa: E402

# this script is called pact.py: its folder must not shadow pact-python's `pact` package
sys.path = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.modules.pop("pact", None)

REPO = Path(__file__).resolve().parent.parent
PROVIDER = REPO / "tests" / "pact" / "provider"
STACK = """\
[services.db]
kind = "postgres"
database = "users"
init = ["provider/schema.sql"]
export = { DATABASE_URL = "${url}" }

[services.cache]
kind = "redis"
export = { REDIS_URL = "${url}" }

[services.users]
kind = "process"
command = "@PY@ provider/users.py"
depends_on = ["db", "cache"]
ready = { http = "/health" }
"""
INSERT = "INSERT INTO users (id, name, email) VALUES (%s, %s, %s)"


def write_pact(path: Path, count: int) -> None:
    interactions = []
    for n in range(1, count + 1):
        if n % 5 == 0:
            interactions.append({"type": "Synchronous/HTTP", "description": f"user {n} is gone",
                                 "providerStates": [{"name": "no users exist"}],
                                 "request": {"method": "GET", "path": f"/users/{n - 1}"},
                                 "response": {"status": 404}})
            continue
        interactions.append({
            "type": "Synchronous/HTTP", "description": f"a request for user {n}",
            "providerStates": [{"name": f"user {n} exists"}],
            "request": {"method": "GET", "path": f"/users/{n}", "headers": {"Accept": ["application/json"]}},
            "response": {"status": 200, "headers": {"Content-Type": ["application/json"]},
                         "body": {"content": {"id": n, "name": f"User {n}", "email": f"user{n}@example.com"},
                                  "contentType": "application/json", "encoded": False},
                         "matchingRules": {"body": {"$.email": {"combine": "AND", "matchers": [
                             {"match": "regex", "regex": "^[^@]+@[^@]+$"}]}}}}})
    path.write_text(json.dumps({"consumer": {"name": "web"}, "provider": {"name": "UserService"},
                                "metadata": {"pactSpecification": {"version": "4.0"}},
                                "interactions": interactions}, indent=2))


def stackrig_run(rig: Any, pact: Path, reset: Any, states: Any) -> float:
    from stackrig.pact import verify_with_rig

    t0 = time.perf_counter()
    report = verify_with_rig(rig, [pact], provider="users", states=states, reset=reset)
    took = time.perf_counter() - t0
    assert report.ok, report.render()
    return took


class _StateHandler(BaseHTTPRequestHandler):
    """The hand-written state endpoint: reset, then the state's rows."""

    protocol_version = "HTTP/1.1"
    reset: Any = None
    conn: Any = None

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        data = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        type(self).reset()
        found = re.fullmatch(r"user (\d+) exists", str(data.get("state", "")))
        if found:
            n = int(found.group(1))
            type(self).conn.execute(INSERT, (n, f"User {n}", f"user{n}@example.com"))
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def by_hand_run(url: str, pact: Path, reset: Any, conn: Any) -> float:
    from pact import Verifier

    from stackrig.pact._verify import _captured_stdout

    t0 = time.perf_counter()
    _StateHandler.reset = staticmethod(reset)
    _StateHandler.conn = conn
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StateHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        verifier = (Verifier("UserService", host="127.0.0.1").add_transport(url=url).add_source(str(pact))
                    .state_handler(f"http://127.0.0.1:{server.server_address[1]}/_pact/state", body=True,
                                   teardown=False))
        with _captured_stdout():
            verifier.verify()
        results = verifier.results
    finally:
        server.shutdown()
        server.server_close()
    reset()
    took = time.perf_counter() - t0
    assert results["result"] is True, json.dumps(results["interactionResults"])[:2000]
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--interactions", type=int, default=20)
    args = parser.parse_args()

    import psycopg

    from stackrig import Stack
    from stackrig.pact import StateRegistry
    from stackrig.rig import Resets

    work = Path(tempfile.mkdtemp(prefix="stackrig-pact-bench-"))
    try:
        shutil.copytree(PROVIDER, work / "provider", ignore=shutil.ignore_patterns("__pycache__"))
        (work / "stackrig.toml").write_text(STACK.replace("@PY@", sys.executable))
        pact = work / "pacts" / "web-users.json"
        pact.parent.mkdir()
        write_pact(pact, args.interactions)
        states = StateRegistry()

        @states.provider_state("user {id} exists")
        def user_exists(id: int, env: dict[str, str]) -> None:
            conn.execute(INSERT, (id, f"User {id}", f"user{id}@example.com"))

        @states.provider_state("no users exist")
        def no_users() -> None:
            pass

        stack = Stack.load(work / "stackrig.toml")
        with stack as rig:
            resets = Resets(stack.file, rig)
            conn = psycopg.connect(rig.env["DATABASE_URL"], autocommit=True)
            reset_count = [0]

            def reset() -> None:
                reset_count[0] += 1
                resets.after("benchmark")

            url = rig["users"].url
            stackrig_run(rig, pact, reset, states)  # warm-up of each
            by_hand_run(url, pact, reset, conn)
            a: list[float] = []
            b: list[float] = []
            resets_a: list[int] = []
            resets_b: list[int] = []
            for _ in range(args.runs):
                reset_count[0] = 0
                a.append(stackrig_run(rig, pact, reset, states))
                resets_a.append(reset_count[0])
                reset_count[0] = 0
                b.append(by_hand_run(url, pact, reset, conn))
                resets_b.append(reset_count[0])
            conn.close()
            resets.close()
        ma, mb = median(a), median(b)
        print(f"# pact verification, {args.interactions} interactions, {args.runs} interleaved runs "
              f"({today()}; {machine()})\n")
        print(table([
            ["(a) stackrig verify_with_rig", f"{ma * 1000:.0f}", f"{min(a) * 1000:.0f}", f"{max(a) * 1000:.0f}",
             str(resets_a[0])],
            ["(b) pact-python Verifier + hand-written state endpoint", f"{mb * 1000:.0f}", f"{min(b) * 1000:.0f}",
             f"{max(b) * 1000:.0f}", str(resets_b[0])],
        ], ["run", "median ms", "min ms", "max ms", "data resets"]))
        ratio = ma / mb
        print(f"\na/b = {ratio:.2f} (target <= 1.2: {'met' if ratio <= 1.2 else 'NOT met'}); "
              f"per interaction: {ma / args.interactions * 1000:.1f} ms vs {mb / args.interactions * 1000:.1f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
