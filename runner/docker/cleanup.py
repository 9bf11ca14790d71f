"""Every container we make carries our label and its owner; this removes them.

Removal runs off the result's path: a run's result is known before Docker has removed
its container. Whatever a killed process could not remove, the next process's reaper
does: it removes our containers whose owning process is gone."""

from __future__ import annotations

import os
import queue
import socket
import threading
import time

from .client import APIError, EngineClient, NotFound

LABEL = "tui-sandbox"
OWNER_LABEL = "tui-sandbox.owner"


class Removals:
    """Containers to remove, one background thread doing it. Owned by one backend and
    drained by its close(): nothing here runs at import or at exit by itself.

    Two kinds: `submit` removes a container (killing it if it runs); `expect` follows one
    that Docker removes by itself (auto-remove, once it has ended), and removes it only
    if Docker has not within a few seconds. A removal the engine was away for is tried
    again every few seconds while this process lives; what it leaves when it ends, the
    next process's reaper removes (reap_stale_containers)."""

    AUTO_REMOVE_WAIT_S = 10
    RETRY_S = 2.0

    def __init__(self, api: EngineClient) -> None:
        self._api = api
        self._queue: queue.Queue[tuple[str, bool]] = queue.Queue()     # (id, auto)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._ours = 0       # submitted and not yet removed
        self._retrying = 0   # waiting for the engine to be back

    def submit(self, container_id: str) -> None:
        self._put(container_id, auto=False)

    def expect(self, container_id: str) -> None:
        self._put(container_id, auto=True)

    def _put(self, container_id: str, auto: bool) -> None:
        with self._lock:
            if not auto:
                self._ours += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, daemon=True, name="tui-sandbox-remove")
                self._thread.start()
        self._queue.put((container_id, auto))

    def _work(self) -> None:
        later: list[tuple[float, str, bool]] = []     # (when, id, auto): to try again
        while True:
            try:
                timeout = max(0.0, later[0][0] - time.monotonic()) if later else None
                container_id, auto = self._queue.get(timeout=timeout)
                retried = False
            except queue.Empty:
                _, container_id, auto = later.pop(0)
                retried = True
            gone = self._remove(container_id, wait_for_docker=auto and not retried)
            if not gone:
                later.append((time.monotonic() + self.RETRY_S, container_id, auto))
            with self._lock:
                self._retrying += (not gone) - retried
                if gone and not auto:
                    self._ours -= 1
            if not retried:
                self._queue.task_done()

    def _remove(self, container_id: str, wait_for_docker: bool) -> bool:
        """Removed, or gone already; False if the engine could not be reached."""
        if wait_for_docker and self._removed_by_docker(container_id):
            return True          # else not removed in time: do it ourselves
        try:
            self._api.remove_container(container_id, v=True, force=True)
        except NotFound:
            return True          # gone already
        except APIError:
            # Docker is removing it already: a spare killed by the forced removal ends, and
            # its auto-remove races ours (409, "removal already in progress"). Gone only
            # once Docker says so, or a check right after would still list it.
            return self._removed_by_docker(container_id)
        except Exception:  # noqa: BLE001 - the engine went away: again in a while
            return False
        return True

    def _removed_by_docker(self, container_id: str) -> bool:
        """Wait for Docker's own removal: True once it is gone, False if not in time."""
        try:
            self._api.wait(container_id, timeout=self.AUTO_REMOVE_WAIT_S, condition="removed")
        except NotFound:
            pass                 # removed already
        except Exception:  # noqa: BLE001 - not yet, or the engine went away
            return False
        return True

    def wait(self, timeout: float = 30, auto_removed: bool = True) -> bool:
        """Block until the submitted containers are removed, and with auto_removed those
        Docker removes by itself too; False if time ran out."""
        deadline = time.monotonic() + timeout
        while (self._queue.unfinished_tasks or self._retrying) if auto_removed else self._ours:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True


def owner_label() -> str:
    """host:pid:start-time, so the reaper can tell a live owner from a dead one (and a
    reused pid from the original)."""
    return f"{socket.gethostname()}:{os.getpid()}:{process_start_ticks(os.getpid())}"


def process_start_ticks(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def reap_stale_containers(api: EngineClient) -> list[str]:
    """Remove our containers whose owning process is gone (it was SIGKILLed, or the
    machine rebooted). Containers of live owners, here or elsewhere, are left alone."""
    removed: list[str] = []
    here = socket.gethostname()
    try:
        containers = api.containers(all=True, filters={"label": LABEL})
    except Exception:  # noqa: BLE001 - the engine went away: the next start reaps them
        return removed
    for container in containers:
        owner = (container.get("Labels") or {}).get(OWNER_LABEL, "")
        host, _, rest = owner.partition(":")
        pid, _, ticks = rest.partition(":")
        if host != here or (pid.isascii() and pid.isdigit() and _alive(int(pid), ticks)):
            continue
        try:
            api.remove_container(container["Id"], v=True, force=True)
            removed.append(container["Id"])
        except Exception:  # noqa: BLE001 - gone already, or the engine went away
            pass
    return removed


def _alive(pid: int, ticks: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return ticks in ("?", process_start_ticks(pid))
