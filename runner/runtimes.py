"""What differs between the OCI runtimes a container may run under, said in one place.

The engine takes any runtime its engine has registered (`EngineInfo.runtimes`); every
place that treats one runtime unlike another reads its traits here instead of comparing
names. A runtime this table does not know is taken as runc-like: an OCI runtime that
runs the program on the host's kernel, in a cgroup the guest can read, under our seccomp
profile (crun and youki are such). One that is not (a VM-class runtime such as Kata
Containers, or one built on Firecracker, on a host with hardware virtualization) needs
an entry of its own: what its guest can see decides how a run's end is known.

A run that names no runtime (AUTO) gets the fastest registered one as isolated as runc:
crun where it is registered, else runc (Runtime.default_rank, default_runtime). The engine
resolves it once (Limits.resolved, from Sandbox.check); whatever comes after (the spares,
the container, the result, the history) sees the concrete name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from .errors import RuntimeUnavailable

# The runtime a run asks for when it names none: the engine's default, made concrete by
# default_runtime before anything else sees it.
AUTO = "auto"


@dataclass(frozen=True)
class Runtime:
    """One OCI runtime's traits, as the engine needs them."""
    name: str                           # as the engine registers it: "runsc"
    label: str                          # for people: "gVisor (runsc)"
    description: str                    # one line for doctor and the app
    # The program's system calls reach a kernel of the runtime's own, not the host's.
    own_kernel: bool = False
    # The engine's seccomp profile (ours) is applied to the program. gVisor ignores the
    # OCI profile (it filters its own calls to the host) unless told --oci-seccomp.
    seccomp_loaded: bool = True
    # The init can read the container's cgroup (memory, CPU, OOM kills), so its report is
    # the whole story. Where it cannot, the engine's own stats fill in and the engine is
    # asked how the container ended, so the container must outlive the run.
    guest_sees_cgroup: bool = True
    # The host's pids cgroup does not count the guest's processes: the init caps them
    # itself (RLIMIT_NPROC), and the host limit gets room for the runtime's own threads.
    guest_process_limit: bool = False
    host_pids_extra: int = 0
    # The runtime lets the init set the message-queue limit; else the engine sets it.
    init_sets_msgqueue: bool = True
    # The init can tell when the program blocks reading its input: it reads the program's
    # /proc/PID/task/*/syscall, which gVisor does not implement.
    sees_input_wait: bool = True
    # The init can get a seccomp listener, so it refuses the policy's calls itself and
    # reports each as a wall; gVisor's seccomp has no listener (EINVAL).
    init_watches_calls: bool = True
    # Registered with this argument, the runtime has no networking: network-on runs are refused.
    network_off_arg: str | None = None
    # Its place in the choice for a run that names no runtime (AUTO): the registered one
    # ranked lowest is taken. Only runtimes as isolated as runc are ranked, so a run left to
    # the engine is never less isolated than under runc, nor slowed by a stronger runtime
    # (gVisor) it did not ask for; one without a rank runs only when asked for by name.
    default_rank: int | None = None
    # Why it is taken before those ranked after it, for doctor.
    preferred_because: str = ""

    def host_pids(self, pids: int) -> int:
        """The host's pids limit for a run allowed `pids` processes."""
        return pids + self.host_pids_extra

    def network_refusal(self, args: list[str]) -> str | None:
        """Why a network-on run cannot go under this runtime registered with these
        arguments, or None if it can."""
        if self.network_off_arg and self.network_off_arg in args:
            return f"{self.label} is registered here with {self.network_off_arg}: it cannot run with the network on"
        return None

    def traits(self, args: Sequence[str] = ()) -> str:
        """What differs about it, registered with these arguments: for doctor and the app."""
        refused = self.network_refusal(list(args))
        return ", ".join([
            "our seccomp profile " + ("loaded" if self.seccomp_loaded else "not loaded (its kernel answers the calls)"),
            "figures from the container's cgroup" if self.guest_sees_cgroup
            else "figures from the engine's stats (the guest cannot read its cgroup)",
            *(["processes capped inside the guest"] if self.guest_process_limit else []),
            f"network-on runs refused ({self.network_off_arg})" if refused else "network on allowed"])


RUNC = Runtime("runc", "runc", "the standard OCI runtime: the program runs on the host's kernel", default_rank=1)
KNOWN = {runtime.name: runtime for runtime in (
    RUNC,
    Runtime("runsc", "gVisor (runsc)",
            "gVisor: the program's system calls go to gVisor's own kernel in user space, not the host's",
            own_kernel=True, seccomp_loaded=False, guest_sees_cgroup=False,
            # gVisor's own host threads count in the host's pids cgroup, the guest's do not.
            guest_process_limit=True, host_pids_extra=512, init_sets_msgqueue=False, sees_input_wait=False,
            init_watches_calls=False,
            network_off_arg="--network=none"),
    Runtime("crun", "crun", "an OCI runtime in C, like runc: the program runs on the host's kernel",
            default_rank=0, preferred_because="an OCI runtime in C, as isolated as runc (the same namespaces, "
            "cgroups and seccomp profile), that starts containers faster"),
)}


def runtime(name: str) -> Runtime:
    """The traits of the runtime registered as `name`: runc's for one not in the table."""
    known = KNOWN.get(name)
    if known is not None:
        return known
    # Taken as runc-like to run it, but never by default: how isolated it is, is not known.
    return replace(RUNC, name=name, label=name, default_rank=None,
                   description="not known to tui-sandbox: taken as runc-like (an OCI runtime on the host's kernel)")


def ordered(names: Iterable[str]) -> list[str]:
    """Registered runtimes in the order to offer them: the known ones first, runc first."""
    return sorted(names, key=lambda name: (list(KNOWN).index(name) if name in KNOWN else len(KNOWN), name))


@dataclass(frozen=True)
class DefaultRuntime:
    """The runtime of a run that names none, on an engine, and why that one."""
    name: str
    why: str


def default_runtime(registered: Iterable[str]) -> DefaultRuntime:
    """Of these registered runtimes, the one a run that names none runs under: the lowest
    Runtime.default_rank. RuntimeUnavailable if none of them is ranked."""
    names = set(registered)
    ranked = sorted((known for known in KNOWN.values() if known.default_rank is not None),
                    key=lambda known: known.default_rank or 0)
    for place, candidate in enumerate(ranked):
        if candidate.name in names:
            skipped = [better.name for better in ranked[:place]]
            why = (f"{' and '.join(skipped)} {'is' if len(skipped) == 1 else 'are'} not registered here" if skipped
                   else "registered here" + (f"; {candidate.preferred_because}" if candidate.preferred_because else ""))
            return DefaultRuntime(candidate.name, why)
    offered = ", ".join(ordered(names)) or "none"
    raise RuntimeUnavailable(f"no runtime as isolated as runc is registered to run by default (the engine has "
                             f"{offered})", "name one: --runtime " + (ordered(names)[0] if names else "runc"))


def default_name(registered: Iterable[str]) -> str | None:
    """default_runtime's name, or None where none of these runtimes can be the default."""
    try:
        return default_runtime(registered).name
    except RuntimeUnavailable:
        return None
