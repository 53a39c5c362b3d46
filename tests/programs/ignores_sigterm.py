"""Serves TCP on $PORT and ignores SIGTERM (only SIGKILL stops it)."""
import os
import signal
import socket
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ["PORT"])))
s.listen()
print("listening, ignoring SIGTERM", flush=True)
while True:
    time.sleep(1)
