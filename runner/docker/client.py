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

import io
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote, urlencode

from ..errors import EngineUnavailable
from .connection import Connection, Endpoint, RawStream, Response, engine_host, upgrade

__all__ = ["APIError", "EngineClient", "ImageNotFound", "NotFound", "engine_host"]

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
        self._idle: list[Connection] = []
        self._lock = threading.Lock()

    # --- the calls the engine makes ------------------------------------------------

    def ping(self) -> bool:
        return bool(self._call("GET", "/_ping") == "OK")

    def info(self) -> Json:
        return self._call("GET", "/info")

    def containers(self, all: bool = False, filters: dict[str, Any] | None = None) -> Json:
        return self._call("GET", "/containers/json", {"all": int(all), **_filters(filters)})

    def create_container(self, config: dict[str, Any]) -> Json:
        """POST /containers/create with Docker's own container config (HostConfig inside)."""
        return self._call("POST", "/containers/create", body=config, missing=ImageNotFound)

    def attach_socket(self, container: str, params: Params) -> RawStream:
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
        except (OSError, ValueError) as exc:
            raise self._broken(connection, exc) from None
        self._done(connection, response, missing, payload)
        if not payload:
            return None
        if response.content_type.startswith("application/json"):
            return json.loads(payload)
        return payload.decode("utf-8", "replace")

    def _lines(self, method: str, path: str, params: Params | None = None, *, data: bytes | BinaryIO | None = None,
               timeout: float | None = CLIENT_TIMEOUT, headers: dict[str, str] | None = None) -> Iterator[Json]:
        """A streamed answer, one JSON value a line. Its connection is not kept."""
        response, connection = self._send(method, path, params, data, headers or {}, timeout)
        if response.status >= 400:
            self._done(connection, response, NotFound, response.read())

        def lines() -> Iterator[Json]:
            try:
                for line in response.lines():
                    if line.strip():
                        yield json.loads(line)
            finally:
                connection.close()
        return lines()

    def _send(self, method: str, path: str, params: Params | None, data: bytes | BinaryIO | None,
              headers: dict[str, str], timeout: float | None) -> tuple[Response, Connection]:
        target = path + ("?" + urlencode(params) if params else "")
        reused, connection = self._connection(timeout)
        try:
            response = connection.request(method, target, data, headers)
        except (OSError, ValueError) as exc:
            if reused and isinstance(exc, (BrokenPipeError, ConnectionResetError)):
                # A kept-alive connection the engine closed while it was idle (it restarted).
                connection.close()
                return self._send(method, path, params, data, headers, timeout)
            raise self._broken(connection, exc) from None
        self.connected, self.unreachable = True, None
        return response, connection

    def _connection(self, timeout: float | None) -> tuple[bool, Connection]:
        """(reused, connection): an idle one whose other end is still there, or a new one."""
        if timeout == CLIENT_TIMEOUT:
            with self._lock:
                while self._idle:
                    connection = self._idle.pop()
                    if connection.idle_and_open():
                        return True, connection
                    connection.close()
            timeout = self.timeout
        try:
            return False, Connection(self.endpoint.open(timeout), timeout)
        except OSError as exc:
            raise self._unavailable(exc) from None

    def _done(self, connection: Connection, response: Response, missing: type[NotFound], payload: bytes) -> None:
        """Keep the connection for the next call, or raise the engine's error."""
        kept = False
        if not response.will_close and connection.timeout == self.timeout:
            with self._lock:
                if len(self._idle) < self.MAX_IDLE:
                    self._idle.append(connection)
                    kept = True
        if not kept:
            connection.close()
        if response.status >= 400:
            raise _error(response.status, payload, missing, response.reason)

    def _hijack(self, method: str, path: str, params: Params) -> RawStream:
        try:
            sock = self.endpoint.open_stream(self.timeout)
        except OSError as exc:
            raise self._unavailable(exc) from None
        try:
            status, head = upgrade(sock, method, f"{path}?{urlencode(params)}")
        except OSError as exc:
            sock.close()
            raise self._unavailable(exc) from None
        if status not in (101, 200):
            sock.settimeout(1)
            try:
                body = sock.recv(65536)
            except OSError:
                body = b""
            sock.close()
            raise _error(status, body, NotFound, head.decode("latin-1").splitlines()[0])
        self.connected, self.unreachable = True, None
        sock.settimeout(None)
        return sock

    def _broken(self, connection: Connection, exc: Exception) -> Exception:
        """A call's connection failed: it is closed. A timeout stays one (the caller's
        deadline, as a wait's); anything else means the engine cannot be reached."""
        connection.close()
        return exc if isinstance(exc, TimeoutError) else self._unavailable(exc)

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


def _error(status: int, payload: bytes, missing: type[NotFound], fallback: str) -> APIError:
    """The engine's error in its own words (its JSON `message`)."""
    try:
        explanation = str(json.loads(payload).get("message") or "")
    except (ValueError, AttributeError):
        explanation = payload.decode("utf-8", "replace").strip()
    return (missing if status == 404 else APIError)(status, explanation or fallback)


def _path(template: str, name: str) -> str:
    return template.format(quote(name, safe="/:"))


def _filters(filters: dict[str, Any] | None) -> Params:
    """Docker's filters parameter: each value a list, as JSON."""
    if not filters:
        return {}
    return {"filters": json.dumps({key: [value] if isinstance(value, str) else list(value)
                                   for key, value in filters.items()})}
