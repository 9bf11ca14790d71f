"""How many of one owner's containers Docker runs at once, followed from Docker's event
stream (GET /events, filtered to our label, container start and die) rather than by
listing the containers again and again: a list every 20 ms cost dockerd more CPU than
some of what a bench measures. One HTTP stream, read by one thread; nothing is polled.

    watch = RunningContainers(owner_prefix).open()   # before the owner makes any
    watch.count(True); ...; watch.count(False)
    print(watch.peak); watch.close()

The bench speaks to the engine's socket with httpx (a dependency already), not through
the engine's client: it watches the engine, whatever client the service uses."""

from __future__ import annotations

import json
import threading
import time

import httpx

from runner.docker.backend import engine_host
from runner.docker.cleanup import LABEL, OWNER_LABEL


class RunningContainers:
    def __init__(self, owner_prefix: str) -> None:
        """owner_prefix: the start of the owner label of the containers to count
        ("host:pid:", as runner.docker.cleanup.owner_label makes it)."""
        host = engine_host()
        if not host.startswith("unix://"):
            raise SystemExit(f"the bench follows Docker's events over its unix socket, not {host}")
        self._client = httpx.Client(transport=httpx.HTTPTransport(uds=host.removeprefix("unix://")),
                                    base_url="http://docker", timeout=httpx.Timeout(10, read=None))
        self.owner_prefix = owner_prefix
        self.running: set[str] = set()
        self.peak = 0
        self._counting = False     # the peak is taken only while this is set
        self.events = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True, name="bench-docker-events")

    def open(self) -> "RunningContainers":
        self._thread.start()
        if not self._ready.wait(10):
            raise SystemExit("Docker's event stream did not open")
        return self

    def close(self) -> None:
        self._client.close()    # the reading thread is a daemon: it ends with its stream

    def count(self, on: bool) -> None:
        """Take the peak from now (from the count at this moment), or stop taking it."""
        if on:
            self.peak = len(self.running)
        self._counting = on

    def _follow(self) -> None:
        since = f"{time.time() - 1:.3f}"
        filters = {"type": ["container"], "event": ["start", "die"], "label": [LABEL]}
        params = {"since": since, "filters": json.dumps(filters)}
        try:
            with self._client.stream("GET", "/events", params=params) as stream:
                # Those already running when the stream opened (the events since `since`
                # set it right whichever came first: a container's die always follows).
                for container in self._client.get("/containers/json", params={
                        "filters": json.dumps({"label": [LABEL], "status": ["running"]})}).json():
                    if self._ours(container.get("Labels")):
                        self.running.add(container["Id"])
                self._ready.set()
                for line in stream.iter_lines():
                    if line:
                        self._apply(json.loads(line))
        except (httpx.HTTPError, RuntimeError):
            return    # closed at the end
        finally:
            self._ready.set()

    def _ours(self, labels: dict | None) -> bool:
        return (labels or {}).get(OWNER_LABEL, "").startswith(self.owner_prefix)

    def _apply(self, event: dict) -> None:
        actor = event.get("Actor") or {}
        if not self._ours(actor.get("Attributes")):
            return
        self.events += 1
        if event.get("status", event.get("Action")) == "start":
            self.running.add(actor.get("ID", event.get("id")))
        else:
            self.running.discard(actor.get("ID", event.get("id")))
        if self._counting:
            self.peak = max(self.peak, len(self.running))
