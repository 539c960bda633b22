"""pidservice.py — what the restart benchmarks share: the pid-answering test service and ways to see it restart."""
import os
import socket
import subprocess
import time


def build_pidserver(workdir):
    """Compiles pidserver.c into workdir; returns the binary's path."""
    path = os.path.join(workdir, "pidserver")
    subprocess.run(["cc", "-O2", "-o", path, os.path.join(os.path.dirname(os.path.abspath(__file__)), "pidserver.c")],
                   check=True)
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answer(port):
    """The pid the service on port answers with, or None while nothing listens."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            return s.recv(64).strip()
    except OSError:
        return None


def wait_new(port, old, deadline):
    """Polls until a process other than `old` answers; None after deadline seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        got = answer(port)
        if got and got != old:
            return got
        time.sleep(0.0005)
    return None
