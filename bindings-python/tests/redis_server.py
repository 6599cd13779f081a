"""A real redis-server (Debian's) on a free 127.0.0.1 port, no persistence, stopped by its pid;
for the fleet tests and the fleet benchmark. Every wait is bounded."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time

import redis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    def __init__(self, port: int = 0) -> None:
        self.port = port or free_port()
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=0.5)
        for _ in range(200):
            try:
                if client.ping():
                    break
            except redis.exceptions.ConnectionError:
                time.sleep(0.025)
        client.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)


class StallingProxy:
    """A TCP proxy on 127.0.0.1 in front of ``port`` that can stall: while stalled, bytes in both
    directions are held (Redis is "slow"); ``flow()`` sends what was held and lets bytes through.
    One thread accepts, one thread per direction forwards; ``close()`` stops them all."""

    def __init__(self, port: int) -> None:
        self._target = port
        self._stalled = threading.Event()
        self._lock = threading.Lock()
        self._held: "list[tuple[socket.socket, bytes]]" = []
        self._sockets: "list[socket.socket]" = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                down, _ = self._listener.accept()
            except OSError:
                return  # closed
            up = socket.create_connection(("127.0.0.1", self._target))
            with self._lock:
                self._sockets += [down, up]
            for a, b in ((down, up), (up, down)):
                threading.Thread(target=self._forward, args=(a, b), daemon=True).start()

    def _forward(self, src: socket.socket, dst: socket.socket) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                return
            with self._lock:
                if self._stalled.is_set():
                    self._held.append((dst, data))
                    continue
            try:
                dst.sendall(data)
            except OSError:
                return

    def stall(self) -> None:
        self._stalled.set()

    def flow(self) -> None:
        with self._lock:
            self._stalled.clear()
            held, self._held = self._held, []
        for dst, data in held:
            try:
                dst.sendall(data)
            except OSError:
                pass

    def close(self) -> None:
        self._listener.close()
        with self._lock:
            for s in self._sockets:
                s.close()
