"""A page to drive in a browser, and a WebSocket echo at /ws (ready probe: a WebSocket handshake)."""

import asyncio
import os

from websockets.asyncio.server import serve
from websockets.datastructures import Headers
from websockets.http11 import Response

PAGE = b"""<!doctype html><title>shop</title>
<button id="go" onclick="document.getElementById('out').textContent = 'clicked'">Go</button>
<p id="out">waiting</p>
"""


async def echo(ws):
    async for message in ws:
        await ws.send(f"echo: {message}")


def page(connection, request):
    if request.path == "/ws":
        return None  # the WebSocket handshake
    return Response(200, "OK", Headers({"Content-Type": "text/html", "Content-Length": str(len(PAGE))}), PAGE)


async def main():
    async with serve(echo, "127.0.0.1", int(os.environ["PORT"]), process_request=page):
        await asyncio.Future()


asyncio.run(main())
