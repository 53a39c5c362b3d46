"""Runs forever without opening its port."""
import time

print("starting, but never listening", flush=True)
while True:
    time.sleep(1)
