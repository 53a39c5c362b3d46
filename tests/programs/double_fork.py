"""Double-forks a daemon that leaves the process group (new session), then serves TCP on $PORT."""
import os
import socket
import sys
import time

pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        with open(sys.argv[1], "w") as f:
            f.write(str(os.getpid()))
        while True:
            time.sleep(1)
    os._exit(0)
os.waitpid(pid, 0)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(os.environ["PORT"])))
s.listen()
print("listening; daemon detached", flush=True)
while True:
    time.sleep(1)
