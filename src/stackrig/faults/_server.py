"""The fault proxy process: control API plus proxies, until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from ._api import ApiServer
from ._collection import ProxyCollection
from ._errors import ApiProblem, FaultConfigError

__all__ = ["main", "serve", "load_config"]

log = logging.getLogger("stackrig.faults")


def load_config(path: Path) -> list[object]:
    """Read a Toxiproxy ``-config`` file: a JSON array of ``{name, listen, upstream, enabled}``."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise FaultConfigError(f"cannot read the fault proxy config {path}: {exc.strerror or exc}",
                               hint="pass an existing JSON file to --config") from None
    except ValueError as exc:
        raise FaultConfigError(f"{path}: expected a JSON array of proxies, found invalid JSON ({exc})",
                               hint='write e.g. [{"name": "db", "listen": "127.0.0.1:5433", '
                                    '"upstream": "127.0.0.1:5432"}]') from None
    if not isinstance(data, list):
        raise FaultConfigError(f"{path}: expected a JSON array of proxies, found a {type(data).__name__}",
                               hint='wrap the proxies in [...]')
    return data


async def serve(api_port: int, config: list[object] | None = None, host: str = "127.0.0.1",
                ready: asyncio.Event | None = None, stop: asyncio.Event | None = None) -> None:
    collection = ProxyCollection()
    if config:
        try:
            await collection.populate(config)
        except ApiProblem as problem:
            raise FaultConfigError(f"fault proxy config: {problem.message}",
                                   hint="fix the proxy entry named in the message") from None
    api = ApiServer(collection)
    try:
        port = await api.start(host, api_port)
    except OSError as exc:
        await collection.close()
        raise FaultConfigError(f"fault proxy API cannot listen on {host}:{api_port}: {exc.strerror or exc}",
                               hint="pass a free port to --api-port") from None
    log.info("fault proxy API listening on http://%s:%d (%d proxies)", host, port, len(collection.proxies))
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        await api.close()
        await collection.close()
        log.info("fault proxy stopped")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stackrig.faults",
                                     description="TCP fault-injection proxy with a Toxiproxy-compatible API.")
    parser.add_argument("--api-port", type=int, required=True, help="port of the control API (127.0.0.1)")
    parser.add_argument("--host", default="127.0.0.1", help="address of the control API (default 127.0.0.1)")
    parser.add_argument("--config", type=Path, help="JSON file listing proxies, like Toxiproxy's -config")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR (default INFO)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config) if args.config else None
        try:
            import uvloop
        except ImportError:
            asyncio.run(serve(args.api_port, config, args.host))
        else:
            uvloop.run(serve(args.api_port, config, args.host))
    except FaultConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
