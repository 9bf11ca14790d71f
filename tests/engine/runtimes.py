"""The runtimes scripts/docker-engine.sh registers beside runc: the engine's tests run
under each of them, and one that is missing fails them (they never skip)."""

from runner.runtimes import runtime

RUNTIMES = ["runc", "runsc", "crun"]
# Those that load our seccomp profile, for the tests of what it denies.
SECCOMP_LOADED = [name for name in RUNTIMES if runtime(name).seccomp_loaded]
