"""Loopback proxies to a redis-server that make round trips and crashes visible."""

import contextlib
import socket
import threading
import time
from collections.abc import Callable


class Proxy:
    """Forwards one client's connections to Redis. `on_request(chunk)` may hold or refuse each request: it returns
    False to cut the connection there, the request never reaching Redis. `on_reply(chunk)` is called before each
    reply is passed on (it may hold it)."""

    def __init__(
        self,
        target_port: int,
        on_request: Callable[[bytes], bool] = lambda _: True,
        on_reply: Callable[[bytes], None] = lambda _: None,
    ) -> None:
        self._target_port = target_port
        self._on_request = on_request
        self._on_reply = on_reply
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def close(self) -> None:
        for sock in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self._target_port))
            self._sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, is_request: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if is_request and not self._on_request(chunk):
                    self.close()
                    return
                if not is_request:
                    self._on_reply(chunk)
                sink.sendall(chunk)
        except OSError:
            return


class HoldingProxy(Proxy):
    """Holds each request `hold` seconds before Redis sees it, and counts them: one round trip is one hold."""

    def __init__(self, target_port: int, hold: float) -> None:
        self.requests: list[bytes] = []
        self._hold = hold
        super().__init__(target_port, self._held)

    def _held(self, chunk: bytes) -> bool:
        self.requests.append(chunk)
        time.sleep(self._hold)
        return True


class DiesOnScript(Proxy):
    """Cuts every connection the moment a script is sent: a Lambda that dies as it asks Redis to run one."""

    def __init__(self, target_port: int) -> None:
        super().__init__(target_port, lambda chunk: b"EVALSHA" not in chunk.upper())
