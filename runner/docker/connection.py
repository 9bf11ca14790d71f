"""HTTP/1.1 to the Docker engine over its socket: just what the Engine API's answers need.

Why not http.client: importing it (email.parser for the headers, ssl besides) was 13 ms
of a 190 ms `tui-sandbox run` (python -X importtime, quiet machine), and the engine's
answers use none of what it handles beyond this: no proxy, redirect, 100-continue or
content encoding. Bodies come with a Content-Length, chunked, or up to the close."""

from __future__ import annotations

import os
import select
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol
from urllib.parse import urlsplit

from ..errors import EngineUnavailable

if TYPE_CHECKING:
    import ssl

DEFAULT_HOST = "unix:///var/run/docker.sock"
MAX_LINE = 65536


def engine_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


class Endpoint:
    """Where the engine listens, from DOCKER_HOST as the docker CLI reads it: a unix
    socket, or tcp:// (with TLS when DOCKER_TLS_VERIFY or DOCKER_CERT_PATH is set)."""

    def __init__(self, host: str) -> None:
        self.host = host
        url = urlsplit(host)
        self._unix: str | None = None
        self._address: tuple[str, int] = ("localhost", 2375)
        self._tls: ssl.SSLContext | None = None
        if url.scheme in ("unix", "http+unix"):
            self._unix = url.path
        elif url.scheme in ("tcp", "http", "https"):
            self._address = (url.hostname or "localhost", url.port or 2375)
            cert_path = os.environ.get("DOCKER_CERT_PATH")
            if url.scheme == "https" or os.environ.get("DOCKER_TLS_VERIFY") or cert_path:
                self._tls = _tls_context(Path(cert_path) if cert_path else Path.home() / ".docker",
                                         verify=bool(os.environ.get("DOCKER_TLS_VERIFY")))
        else:
            raise EngineUnavailable(f"DOCKER_HOST={host}: only unix:// and tcp:// engines are supported",
                                    "forward a remote engine's socket (ssh -L /tmp/docker.sock:/var/run/docker.sock "
                                    "HOST) and set DOCKER_HOST=unix:///tmp/docker.sock")

    def open_stream(self, timeout: float | None) -> RawStream:
        """A connection to become a container's attached streams (see TlsStream)."""
        if self._tls is None:
            return self.open(timeout)
        return TlsStream(socket.create_connection(self._address, timeout=timeout), self._tls, self._address[0])

    def open(self, timeout: float | None) -> socket.socket:
        if self._unix is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                sock.connect(self._unix)
            except BaseException:
                sock.close()
                raise
            return sock
        sock = socket.create_connection(self._address, timeout=timeout)
        if self._tls is not None:
            return self._tls.wrap_socket(sock, server_hostname=self._address[0])
        return sock


class RawStream(Protocol):
    """A container's attached streams: a socket, or TLS over one (TlsStream)."""

    def fileno(self) -> int: ...
    def setblocking(self, flag: bool) -> None: ...
    def settimeout(self, value: float | None) -> None: ...
    def recv(self, size: int, flags: int = 0) -> bytes: ...
    def send(self, data: bytes | memoryview) -> int: ...
    def sendall(self, data: bytes) -> None: ...
    def shutdown(self, how: int) -> None: ...
    def close(self) -> None: ...


class TlsStream:
    """TLS over a socket whose writing half can be closed while its reading half goes on,
    as a container's input ends before its output does. Python's SSLSocket cannot: its
    shutdown() drops TLS both ways, and what follows reads as raw records. Here the
    records pass through memory, and the end of input is TLS's close_notify."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext, hostname: str) -> None:
        import ssl

        self._ssl = ssl
        self._sock = sock
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=hostname)
        self._lock = threading.Lock()     # one TLS state for the reading and the writing thread
        while True:
            try:
                with self._lock:
                    self._tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                if not self._fill():
                    raise ConnectionResetError("the engine closed the connection during the TLS handshake") from None
        self._flush()

    def _flush(self) -> None:
        with self._lock:
            data = self._outgoing.read()
        while data:
            try:
                data = data[self._sock.send(data):]
            except BlockingIOError:     # the reading thread made the socket non-blocking
                select.select([], [self._sock], [], 1.0)

    def _fill(self) -> bool:
        data = self._sock.recv(65536)    # BlockingIOError when non-blocking and nothing came
        with self._lock:
            if data:
                self._incoming.write(data)
            else:
                self._incoming.write_eof()
        return bool(data)

    def recv(self, size: int, flags: int = 0) -> bytes:
        while True:
            try:
                with self._lock:
                    return self._tls.read(size)
            except self._ssl.SSLWantReadError:
                if not self._fill():
                    return b""
            except (self._ssl.SSLZeroReturnError, self._ssl.SSLEOFError):
                return b""

    def pending(self) -> int:
        with self._lock:
            return self._tls.pending()

    def send(self, data: bytes | memoryview) -> int:
        with self._lock:
            written = self._tls.write(data)
        self._flush()
        return written

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self.send(view):]

    def shutdown(self, how: int) -> None:
        """The writing half: close_notify; the engine reads it as the end of input."""
        try:
            with self._lock:
                self._tls.unwrap()
        except self._ssl.SSLWantReadError:
            pass        # sent; the engine's own close_notify comes with the end of the output
        self._flush()

    def fileno(self) -> int:
        return self._sock.fileno()

    def setblocking(self, flag: bool) -> None:
        self._sock.setblocking(flag)

    def settimeout(self, value: float | None) -> None:
        self._sock.settimeout(value)

    def close(self) -> None:
        self._sock.close()


def _tls_context(folder: Path, verify: bool) -> ssl.SSLContext:
    import ssl  # only an engine over TLS needs it

    if verify:
        context = ssl.create_default_context(cafile=str(folder / "ca.pem"))
    else:   # DOCKER_CERT_PATH without DOCKER_TLS_VERIFY: the docker CLI's --tls, unverified
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    if (folder / "cert.pem").exists():
        context.load_cert_chain(str(folder / "cert.pem"), str(folder / "key.pem"))
    return context


class Connection:
    """One kept-alive connection: a request, then its whole answer, then the next."""

    def __init__(self, sock: socket.socket, timeout: float | None) -> None:
        self.sock = sock
        self.timeout = timeout
        self._reader = sock.makefile("rb")

    def request(self, method: str, target: str, body: bytes | BinaryIO | None = None,
                headers: dict[str, str] | None = None) -> Response:
        lines = [f"{method} {target} HTTP/1.1", "Host: docker",
                 *(f"{name}: {value}" for name, value in (headers or {}).items())]
        if isinstance(body, bytes) or body is None:
            lines.append(f"Content-Length: {len(body or b'')}")
            self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b""))
        else:    # a file: its Content-Length is the caller's
            self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            self.sock.sendfile(body)
        return Response(self._reader, head_only=method == "HEAD")

    def idle_and_open(self) -> bool:
        """Kept while idle, the engine may have closed it: then it reads as ready."""
        try:
            return not select.select([self.sock], [], [], 0)[0]
        except (OSError, ValueError):
            return False

    def close(self) -> None:
        self._reader.close()
        self.sock.close()


class Response:
    def __init__(self, reader: BinaryIO, head_only: bool = False) -> None:
        self._reader = reader
        status_line = reader.readline(MAX_LINE)
        if not status_line:
            raise ConnectionResetError("the engine closed the connection without an answer")
        version, status, *reason = status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        self.status = int(status)
        self.reason = reason[0] if reason else ""
        self.headers: dict[str, str] = {}
        while (line := reader.readline(MAX_LINE)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            self.headers[name.strip().lower()] = value.strip()
        connection = self.headers.get("connection", "").lower()
        self._chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        length = self.headers.get("content-length")
        no_body = head_only or self.status in (204, 304) or 100 <= self.status < 200
        self._left: int | None = 0 if no_body else (None if self._chunked or length is None else int(length))
        # A body without a length or chunks ends when the engine closes the connection.
        self.will_close = (connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
                           or (not no_body and not self._chunked and length is None))

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def read(self) -> bytes:
        """The whole body."""
        return b"".join(self._pieces())

    def lines(self) -> Iterator[bytes]:
        """The body a line at a time, as it comes (Docker's streams: a JSON value a line)."""
        pending = b""
        for piece in self._pieces():
            pending += piece
            *complete, pending = pending.split(b"\n")
            yield from complete
        if pending:
            yield pending

    def _pieces(self) -> Iterator[bytes]:
        reader = self._reader
        if not self._chunked:
            data = reader.read() if self._left is None else _exactly(reader, self._left)
            self._left = 0
            if data:
                yield data
            return
        while True:
            size = int(reader.readline(MAX_LINE).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while reader.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass      # trailers, unused
                self._chunked = False
                return
            data = _exactly(reader, size)
            _exactly(reader, 2)
            yield data


def _exactly(reader: BinaryIO, size: int) -> bytes:
    data = reader.read(size)
    if len(data) < size:
        raise ConnectionResetError("the engine closed the connection mid-answer")
    return data


def upgrade(sock: RawStream, method: str, target: str) -> tuple[int, bytes]:
    """Ask for the connection to become the raw stream (Docker's attach): the status and
    the head of the answer, reading not one byte of the stream after it."""
    sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                 "Content-Length: 0\r\n\r\n".encode("latin-1"))
    head = b""
    while b"\r\n\r\n" not in head:
        if isinstance(sock, TlsStream):
            chunk = sock.recv(1)           # TLS cannot peek
        else:
            peeked = sock.recv(4096, socket.MSG_PEEK)
            end = (head + peeked).find(b"\r\n\r\n")
            chunk = sock.recv(end + 4 - len(head) if end >= 0 else len(peeked))
        if not chunk:
            raise ConnectionResetError("the engine closed the connection")
        head += chunk
    parts = head.split(b" ", 2)
    return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0), head
