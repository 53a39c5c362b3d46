"""Prints a reason and exits 3 before serving anything."""
import sys

print("fatal: could not read config file app.ini", flush=True)
sys.exit(3)
