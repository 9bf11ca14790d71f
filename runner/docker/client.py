"""A client for the few Docker Engine API calls the engine makes, on the standard library.

Why not the Docker SDK: it reaches the engine through requests and urllib3, whose imports
alone took about 120 ms of a `tui-sandbox run` that lasts under 300 ms (measured with
`python -X importtime`), and their per-call overhead is CPU a busy server pays on every
run. No lighter client is kept up (aiodocker brings aiohttp; the others wrap requests or
the docker CLI). The calls here are Docker's documented HTTP API, sent unversioned, which
Docker answers at its own current version, as the SDK's `version="auto"` did, without the
round trip to ask for it.

Method names and arguments follow docker.APIClient's for the calls kept, so a reader who
knows the SDK knows these. Errors: APIError (and NotFound, ImageNotFound) for an answer
of 400 or more; EngineUnavailable when the engine cannot be reached, with the fix."""

from __future__ import annotations

import http.client
import io
import json
import os
import select
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from ..errors import EngineUnavailable

DEFAULT_HOST = "unix:///var/run/docker.sock"
Json = Any      # Docker's answers are JSON, handled as such where they are read
Params = dict[str, Any]
CLIENT_TIMEOUT = -1.0   # a call's timeout: the client's own


class APIError(Exception):
    """The engine answered with an error: its status and its own words."""

    def __init__(self, status: int, explanation: str) -> None:
        super().__init__(f"{status}: {explanation}")
        self.status_code = status
        self.explanation = explanation


class NotFound(APIError):
    pass


class ImageNotFound(NotFound):
    pass


def engine_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class Endpoint:
    """Where the engine listens, from DOCKER_HOST as the docker CLI reads it: a unix
    socket, or tcp:// (with TLS when DOCKER_TLS_VERIFY or DOCKER_CERT_PATH is set)."""

    def __init__(self, host: str) -> None:
        self.host = host
        url = urlsplit(host)
        self.scheme = url.scheme
        self._tls: ssl.SSLContext | None = None
        if url.scheme in ("unix", "http+unix"):
            self.path = url.path
        elif url.scheme in ("tcp", "http", "https"):
            self.address = (url.hostname or "localhost", url.port or 2375)
            cert_path = os.environ.get("DOCKER_CERT_PATH")
            if url.scheme == "https" or os.environ.get("DOCKER_TLS_VERIFY") or cert_path:
                self._tls = _tls_context(Path(cert_path) if cert_path else Path.home() / ".docker",
                                         verify=bool(os.environ.get("DOCKER_TLS_VERIFY")))
        else:
            raise EngineUnavailable(f"DOCKER_HOST={host}: only unix:// and tcp:// engines are supported",
                                    "forward a remote engine's socket (ssh -L /tmp/docker.sock:/var/run/docker.sock "
                                    "HOST) and set DOCKER_HOST=unix:///tmp/docker.sock")

    def connection(self, timeout: float | None) -> http.client.HTTPConnection:
        if self.scheme in ("unix", "http+unix"):
            return _UnixConnection(self.path, timeout)
        if self._tls is not None:
            return http.client.HTTPSConnection(*self.address, timeout=timeout, context=self._tls)
        return http.client.HTTPConnection(*self.address, timeout=timeout)


def _tls_context(folder: Path, verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(folder / "ca.pem")) if verify else \
        ssl._create_unverified_context()   # DOCKER_CERT_PATH without DOCKER_TLS_VERIFY: the CLI's "--tls"
    if (folder / "cert.pem").exists():
        context.load_cert_chain(str(folder / "cert.pem"), str(folder / "key.pem"))
    return context


class EngineClient:
    """One engine, shared by every thread of a process: each call takes an idle kept-alive
    connection or opens one. Once a call has got through, a call that cannot reach the
    engine raises EngineUnavailable and leaves `unreachable` saying why, until one gets
    through again."""

    MAX_IDLE = 16

    def __init__(self, host: str | None = None, timeout: float = 60) -> None:
        self.endpoint = Endpoint(host or engine_host())
        self.timeout = timeout
        self.connected = False
        self.unreachable: str | None = None
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    # --- the calls the engine makes ------------------------------------------------

    def ping(self) -> bool:
        return bool(self._call("GET", "/_ping") == "OK")

    def version(self) -> Json:
        return self._call("GET", "/version")

    def info(self) -> Json:
        return self._call("GET", "/info")

    def containers(self, all: bool = False, filters: dict[str, Any] | None = None) -> Json:
        return self._call("GET", "/containers/json", {"all": int(all), **_filters(filters)})

    def create_container(self, config: dict[str, Any]) -> Json:
        """POST /containers/create with Docker's own container config (HostConfig inside)."""
        return self._call("POST", "/containers/create", body=config, missing=ImageNotFound)

    def attach_socket(self, container: str, params: Params) -> socket.socket:
        """The container's standard streams as one socket: Docker's hijacked connection,
        upgraded to raw TCP, multiplexed as it says (the caller splits the frames)."""
        return self._hijack("POST", _path("/containers/{}/attach", container), params)

    def start(self, container: str) -> None:
        self._call("POST", _path("/containers/{}/start", container))

    def kill(self, container: str) -> None:
        self._call("POST", _path("/containers/{}/kill", container))

    def wait(self, container: str, timeout: float | None = None, condition: str | None = None) -> Json:
        params = {"condition": condition} if condition else {}
        return self._call("POST", _path("/containers/{}/wait", container), params, timeout=timeout)

    def inspect_container(self, container: str) -> Json:
        return self._call("GET", _path("/containers/{}/json", container))

    def remove_container(self, container: str, v: bool = False, force: bool = False) -> None:
        self._call("DELETE", _path("/containers/{}", container), {"v": int(v), "force": int(force)})

    def stats(self, container: str, stream: bool = True) -> Json:
        """One frame of Docker's stats; with stream, an iterator of them, about one a second."""
        if stream:
            return self._lines("GET", _path("/containers/{}/stats", container), {"stream": 1})
        return self._call("GET", _path("/containers/{}/stats", container), {"stream": 0})

    def events(self, filters: dict[str, Any] | None = None) -> Iterator[Json]:
        """Docker's events as they happen, until the iterator is closed."""
        return self._lines("GET", "/events", _filters(filters), timeout=None)

    def images(self, filters: dict[str, Any] | None = None) -> Json:
        return self._call("GET", "/images/json", _filters(filters))

    def inspect_image(self, image: str) -> Json:
        return self._call("GET", _path("/images/{}/json", image), missing=ImageNotFound)

    def tag(self, image: str, repository: str, tag: str) -> None:
        self._call("POST", _path("/images/{}/tag", image), {"repo": repository, "tag": tag}, missing=ImageNotFound)

    def remove_image(self, image: str) -> None:
        self._call("DELETE", _path("/images/{}", image), missing=ImageNotFound)

    def build(self, context: Path, dockerfile: str, tag: str, buildargs: dict[str, str],
              labels: dict[str, str]) -> Iterator[Json]:
        """Build from a folder (sent whole, as a tar): Docker's progress, a JSON object a line."""
        import tarfile  # here: no run needs it

        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as tar:
            for item in sorted(context.iterdir()):
                tar.add(item, arcname=item.name)
        params = {"dockerfile": dockerfile, "t": tag, "rm": 1, "forcerm": 1,
                  "buildargs": json.dumps(buildargs), "labels": json.dumps(labels)}
        return self._lines("POST", "/build", params, data=archive.getvalue(), timeout=None,
                           headers={"Content-Type": "application/x-tar"})

    def import_image_from_file(self, filename: str, repository: str, tag: str) -> None:
        """Make an image of a root filesystem's tar; Docker's error, if any, as APIError."""
        with open(filename, "rb") as tarball:
            headers = {"Content-Type": "application/x-tar", "Content-Length": str(os.fstat(tarball.fileno()).st_size)}
            for line in self._lines("POST", "/images/create", {"fromSrc": "-", "repo": repository, "tag": tag},
                                    data=tarball, timeout=None, headers=headers):
                if isinstance(line, dict) and line.get("error"):
                    raise APIError(500, str(line["error"]))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    # --- HTTP ----------------------------------------------------------------------

    def _call(self, method: str, path: str, params: Params | None = None, *, body: Json = None,
              timeout: float | None = CLIENT_TIMEOUT, missing: type[NotFound] = NotFound) -> Json:
        """One request and its whole answer: JSON decoded, else text."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        response, connection = self._send(method, path, params, data, headers, timeout)
        try:
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise self._unavailable(exc) from None
        self._done(connection, response, missing, payload)
        if not payload:
            return None
        if (response.getheader("Content-Type") or "").startswith("application/json"):
            return json.loads(payload)
        return payload.decode("utf-8", "replace")

    def _lines(self, method: str, path: str, params: Params | None = None, *, data: Any = None,
               timeout: float | None = CLIENT_TIMEOUT, headers: dict[str, str] | None = None) -> Iterator[Json]:
        """A streamed answer, one JSON value a line. Its connection is not kept."""
        response, connection = self._send(method, path, params, data, headers or {}, timeout)
        if response.status >= 400:
            self._done(connection, response, NotFound, response.read())

        def lines() -> Iterator[Json]:
            try:
                for line in response:
                    if line.strip():
                        yield json.loads(line)
            finally:
                connection.close()
        return lines()

    def _send(self, method: str, path: str, params: Params | None, data: Any, headers: dict[str, str],
              timeout: float | None) -> tuple[http.client.HTTPResponse, http.client.HTTPConnection]:
        url = path + ("?" + urlencode(params) if params else "")
        reused, connection = self._connection(timeout)
        try:
            connection.request(method, url, body=data, headers=headers)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            if isinstance(exc, TimeoutError):
                raise
            if reused and isinstance(exc, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)):
                # A kept-alive connection the engine closed while it was idle (it restarted).
                return self._send(method, path, params, data, headers, timeout)
            raise self._unavailable(exc) from None
        self.connected, self.unreachable = True, None
        return response, connection

    def _connection(self, timeout: float | None) -> tuple[bool, http.client.HTTPConnection]:
        """(reused, connection): an idle one whose other end is still there, or a new one."""
        if timeout == CLIENT_TIMEOUT:
            with self._lock:
                while self._idle:
                    connection = self._idle.pop()
                    if connection.sock is not None and not select.select([connection.sock], [], [], 0)[0]:
                        return True, connection
                    connection.close()       # readable while idle: the engine closed it
        return False, self.endpoint.connection(self.timeout if timeout == CLIENT_TIMEOUT else timeout)

    def _done(self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse,
              missing: type[NotFound], payload: bytes) -> None:
        """Keep the connection for the next call, or raise the engine's error."""
        if response.will_close or connection.timeout != self.timeout:
            connection.close()
        else:
            with self._lock:
                if len(self._idle) < self.MAX_IDLE:
                    self._idle.append(connection)
                    connection = None   # type: ignore[assignment]
            if connection is not None:
                connection.close()
        if response.status >= 400:
            try:
                explanation = str(json.loads(payload).get("message") or "")
            except (ValueError, AttributeError):
                explanation = payload.decode("utf-8", "replace").strip()
            error = missing if response.status == 404 else APIError
            raise error(response.status, explanation or response.reason)

    def _hijack(self, method: str, path: str, params: Params) -> socket.socket:
        connection = self.endpoint.connection(self.timeout)
        try:
            connection.connect()
            sock = connection.sock
            assert sock is not None
            sock.sendall(f"{method} {path}?{urlencode(params)} HTTP/1.1\r\nHost: docker\r\n"
                         "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n".encode())
            head = _read_head(sock)
        except OSError as exc:
            connection.close()
            raise self._unavailable(exc) from None
        status = int(head.split(b" ", 2)[1]) if head.count(b" ") >= 1 else 0
        if status not in (101, 200):
            sock.settimeout(1)
            try:
                body = sock.recv(65536)
            except OSError:
                body = b""
            connection.close()
            try:
                explanation = str(json.loads(body).get("message") or "")
            except (ValueError, AttributeError):
                explanation = body.decode("utf-8", "replace").strip()
            raise (NotFound if status == 404 else APIError)(status, explanation or head.decode("latin-1"))
        self.connected, self.unreachable = True, None
        sock.settimeout(None)
        connection.sock = None        # the socket is the caller's now
        return sock

    def _unavailable(self, exc: BaseException) -> EngineUnavailable:
        host = self.endpoint.host
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if self.connected:
            self.unreachable = reason
            return EngineUnavailable(f"the Docker engine at {host} stopped answering ({reason})",
                                     "check that dockerd is running (tui-sandbox doctor), then run it again")
        if isinstance(exc, PermissionError):
            return EngineUnavailable(f"not permitted to use the Docker engine at {host}",
                                     "add yourself to the docker group (then log in again), or run as root")
        if isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
            return EngineUnavailable(f"no Docker engine at {host}: it is not installed or not running",
                                     "start it (sudo systemctl start docker, or scripts/docker-engine.sh "
                                     "start), or install it: apt-get install docker.io")
        return EngineUnavailable(f"the Docker engine at {host} does not answer: {reason}",
                                 "check that dockerd is running and DOCKER_HOST is right")


def _path(template: str, name: str) -> str:
    return template.format(quote(name, safe="/:"))


def _filters(filters: dict[str, Any] | None) -> Params:
    """Docker's filters parameter: each value a list, as JSON."""
    if not filters:
        return {}
    return {"filters": json.dumps({key: [value] if isinstance(value, str) else list(value)
                                   for key, value in filters.items()})}


def _read_head(sock: socket.socket) -> bytes:
    """The answer's status line and headers, and not one byte of the stream after them."""
    head = b""
    while b"\r\n\r\n" not in head:
        if isinstance(sock, ssl.SSLSocket):
            chunk = sock.recv(1)           # TLS cannot peek
        else:
            peeked = sock.recv(4096, socket.MSG_PEEK)
            end = (head + peeked).find(b"\r\n\r\n")
            chunk = sock.recv(end + 4 - len(head) if end >= 0 else len(peeked))
        if not chunk:
            raise ConnectionResetError("the engine closed the connection")
        head += chunk
    return head
