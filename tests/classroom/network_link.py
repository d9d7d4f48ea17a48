"""A network line the tests can cut: a TCP forwarder on loopback between a
browser and the server. ``cut()`` drops every open connection (the page's
websocket included) and turns new ones away, as a dropped Wi-Fi would;
``restore()`` lets them through again. The server itself runs on."""
from __future__ import annotations

import socket
import threading


class NetworkLink:
    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.up = True
        self.lock = threading.Lock()
        self.open_sockets: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True, name="network-link").start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            if not self.up:
                _drop(client)
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                _drop(client)
                continue
            server.settimeout(None)
            with self.lock:
                self.open_sockets |= {client, server}
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                self._forget(end)

    def _forget(self, end: socket.socket) -> None:
        with self.lock:
            self.open_sockets.discard(end)
        _drop(end)

    def cut(self) -> None:
        self.up = False
        with self.lock:
            ends = list(self.open_sockets)
        for end in ends:
            self._forget(end)

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


def _drop(end: socket.socket) -> None:
    try:
        end.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in recv on it
    except OSError:
        pass
    end.close()
