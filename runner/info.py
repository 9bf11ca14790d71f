"""What an engine is and can enforce, and what it alone knows once a container has
ended. Plain data, below everything else in the engine: the limits check against it,
the backends fill it in."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EngineInfo:
    """What the engine is and can enforce, for `doctor`, the app and limit checks."""
    product: str                             # "Docker"
    name: str                                # "Docker 20.10.24"
    cpus: int
    memory_bytes: int
    min_memory_bytes: int = 0                # the smallest memory limit it accepts
    runtimes: dict[str, list[str]] = field(default_factory=dict)   # name -> its arguments
    cgroup_version: str = "?"
    # What the kernel and engine can enforce: memory, swap, pids and cpu limits.
    features: dict[str, bool] = field(default_factory=dict)
    seccomp: str = ""                        # which system-call filter runs apply


@dataclass(frozen=True)
class ExitFacts:
    """What only the engine knows once a container has ended."""
    exit_code: int | None = None
    oom_killed: bool = False
