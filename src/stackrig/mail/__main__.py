"""`python -m stackrig.mail --host H --port P --mailbox DIR`: the capturing SMTP server."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


class Capture:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content: Any = envelope.original_content or envelope.content or b""
        raw = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else str(content)
        record = {"mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos), "raw": raw,
                  "received_at": time.time()}
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_text(json.dumps(record))
        tmp.rename(self.folder / f"{name}.json")
        print(f"captured message from {envelope.mail_from} to {', '.join(envelope.rcpt_tos)}", flush=True)
        return "250 Message accepted for delivery"


async def serve(host: str, port: int, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    loop = asyncio.get_running_loop()
    handler = Capture(folder)
    server = await loop.create_server(lambda: SMTP(handler, hostname="stackrig-smtp"), host, port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"smtp capture listening on {host}:{port}, mailbox {folder}", flush=True)
    await stop.wait()
    server.close()


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m stackrig.mail")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--mailbox", type=Path, required=True)
    args = ap.parse_args()
    asyncio.run(serve(args.host, args.port, args.mailbox))
    os._exit(0)


if __name__ == "__main__":
    main()
