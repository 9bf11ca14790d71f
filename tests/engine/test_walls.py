"""The walls a program hits, as the engine reports them, from real programs in real
containers under every runtime: the PID limit's refusals (the pids cgroup's own count:
exact), the calls the policy refuses (the init's own answer: exact), and with the network
off the connections (predicted errno) and name look-ups (the init's answer: exact). Where
they cannot be seen (gVisor) the run says it saw no walls (blocked is None), never an
empty list that reads as 'nothing was blocked'."""

import pytest

from runner import Blocked, Limits, Output
from runner.units import MiB
from runner.walls import WALL_KINDS

from .programs import ATTEMPT
from .runtimes import RUNTIMES

FORKS = """
import os, time
refused = 0
for _ in range(40):
    try:
        if os.fork() == 0:
            time.sleep(2)
            os._exit(0)
    except OSError:
        refused += 1
print("refused", refused, flush=True)
"""


@pytest.fixture(params=RUNTIMES)
def runtime(request):
    return request.param


def events_of(sandbox, source: str, **limits) -> list:
    return list(sandbox.start(source, "python", Limits(**limits)).events())


def test_forks_refused_at_the_pid_limit_are_one_wall_with_their_exact_count(sandbox, runtime):
    events = events_of(sandbox, FORKS, pids=16, memory=256 * MiB, runtime=runtime)
    result = events[-1].result
    refused = int(result.output.split()[1])
    assert refused > 0, result
    if runtime == "runsc":
        assert result.blocked is None and result.walls_watched == ()
        assert not any(isinstance(event, Blocked) for event in events)
        return
    assert result.walls_watched == tuple(sorted(WALL_KINDS))
    [wall] = result.blocked
    assert (wall.wall, wall.call, wall.errno, wall.exact) == ("process", "fork", "EAGAIN", True)
    assert wall.count == refused, "the cgroup counts each refused fork: exactly the program's own count"
    live = [event for event in events if isinstance(event, Blocked)]
    assert live and live[-1] == wall, "the last wall sent is the result's"


def test_a_clean_run_and_a_write_where_writing_is_allowed_hit_no_wall(sandbox):
    result = events_of(sandbox, "open('/tmp/notes.txt', 'w').write('hi')\nprint('ok')")[-1].result
    assert result.output == "ok\n"
    assert result.blocked == () and result.walls_watched == tuple(sorted(WALL_KINDS))


def test_a_fork_bomb_stays_one_wall_and_a_few_events(sandbox):
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    events = events_of(sandbox, bomb, pids=16, timeout=2)
    result = events[-1].result
    [wall] = result.blocked
    assert wall.count > 1000, wall          # it tried over and over: folded into one
    sent = [event for event in events if isinstance(event, Blocked)]
    assert len(sent) <= 2 / 0.25 + 3, f"{len(sent)} wall events for one wall: at most one a sample"


def test_a_program_cannot_forge_a_wall(sandbox):
    forged = ("import sys\nprint('\\x1e' + 'ab' * 16 + ' S t_ms=1 pids_refused=99')\n"
              "print('E phase=run pids_refused=99', file=sys.stderr)\n")
    events = events_of(sandbox, forged)
    result = events[-1].result
    assert result.blocked == () and "pids_refused=99" in result.output
    assert not any(isinstance(event, Blocked) for event in events)


def test_the_wall_comes_before_the_output_written_after_it(sandbox):
    source = FORKS.replace('print("refused"', 'time.sleep(0.6)\nprint("refused"')
    events = events_of(sandbox, source, pids=16)
    wall_at = next(i for i, event in enumerate(events) if isinstance(event, Blocked))
    said_at = next(i for i, event in enumerate(events) if isinstance(event, Output) and "refused" in event.text)
    assert wall_at < said_at


REFUSED_CALLS = """
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
for name, call in [("unshare", lambda: libc.unshare(0x10000000)),
                   ("mount", lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)),
                   ("keyctl", lambda: libc.syscall(250, 0, 0, 0, 0, 0))]:
    print(name, call(), errno.errorcode.get(ctypes.get_errno()), flush=True)
"""


def test_calls_the_policy_refuses_are_walls_with_their_errno(sandbox, runtime):
    """unshare, mount and keyctl: refused (EPERM) under runc and crun by the init itself,
    each one wall, exact; under gVisor its own kernel answers and no wall can be seen."""
    events = events_of(sandbox, REFUSED_CALLS, runtime=runtime)
    result = events[-1].result
    if runtime == "runsc":
        assert result.blocked is None
        return
    assert result.output.splitlines() == ["unshare -1 EPERM", "mount -1 EPERM", "keyctl -1 EPERM"]
    assert [(w.wall, w.call, w.errno, w.exact, w.count) for w in result.blocked] == [
        ("syscall", "unshare", "EPERM", True, 1), ("syscall", "mount", "EPERM", True, 1),
        ("syscall", "keyctl", "EPERM", True, 1)]
    assert "syscall" in result.walls_watched


def test_a_hundred_thousand_refused_calls_are_one_wall_and_end_in_time(sandbox):
    flood = ("import ctypes\nlibc = ctypes.CDLL(None)\nfor _ in range(100_000):\n"
             "    libc.unshare(0x10000000)\nprint('still here')\n")
    events = events_of(sandbox, flood, timeout=10)
    result = events[-1].result
    assert result.output == "still here\n" and result.verdict.value == "ok"
    [wall] = result.blocked
    assert (wall.call, wall.count) == ("unshare", 100_000)
    assert len([event for event in events if isinstance(event, Blocked)]) < 60, "one event per sample at most"


def test_a_refused_call_is_refused_and_seen_from_a_thread_and_a_child_too(sandbox):
    """The init's filter is the program's and every thread's and child's it makes: none
    of them gets around it, and each refusal is counted."""
    source = REFUSED_CALLS.replace("for name", "import os, threading\nt = threading.Thread(target=lambda: "
                                   "print('thread', libc.unshare(0x10000000), flush=True))\nt.start(); t.join()\n"
                                   "pid = os.fork()\nif pid == 0:\n    print('child', libc.unshare(0x10000000), "
                                   "flush=True)\n    os._exit(0)\nos.waitpid(pid, 0)\nfor name", 1)
    result = events_of(sandbox, source)[-1].result
    assert "thread -1" in result.output and "child -1" in result.output
    [unshare] = [wall for wall in result.blocked if wall.call == "unshare"]
    assert unshare.count == 3


def test_the_program_holds_no_way_to_hide_a_wall(sandbox):
    """The listener lives in the init alone: no fd of the program's is a seccomp listener,
    and kill(1) from inside is refused (the init's uid is not the program's), so the next
    refused call is still refused and still seen."""
    source = ("import os, signal, ctypes, errno\n"
              "links = [os.readlink(f'/proc/self/fd/{fd}') for fd in os.listdir('/proc/self/fd')\n"
              "         if os.path.exists(f'/proc/self/fd/{fd}')]\n"
              "print('listener' if any('seccomp' in link for link in links) else 'none', flush=True)\n"
              "try: os.kill(1, signal.SIGKILL)\n"
              "except PermissionError: print('kill refused', flush=True)\n"
              "libc = ctypes.CDLL(None, use_errno=True)\n"
              "print('unshare', libc.unshare(0x10000000), errno.errorcode.get(ctypes.get_errno()))\n")
    result = events_of(sandbox, source)[-1].result
    assert result.output.splitlines() == ["none", "kill refused", "unshare -1 EPERM"], result
    assert [(wall.wall, wall.call) for wall in result.blocked] == [("syscall", "unshare")]



NETWORK = ATTEMPT + """
attempt("tcp", lambda: socket.create_connection(("93.184.216.34", 80), timeout=3))
attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("10.1.2.3", 9999)))
attempt("loopback", lambda: socket.create_connection(("127.0.0.1", 9), timeout=3))
attempt("dns", lambda: socket.gethostbyname("example.com"))
"""


def test_connections_and_look_ups_with_the_network_off_are_walls(sandbox, runtime):
    """A connection and a datagram off the container: walls with the address, port and
    protocol, and the errno the init predicted, which is the one the program got. A name
    look-up: a wall with the name asked for (the init answers it, refusing: exact). A
    connection to loopback is no wall."""
    events = events_of(sandbox, NETWORK, runtime=runtime)
    result = events[-1].result
    lines = result.output.splitlines()
    assert lines[2] == "loopback ECONNREFUSED" and lines[3] == "dns Temporary failure in name resolution", lines
    if runtime == "runsc":
        assert result.blocked is None
        return
    assert "network" in result.walls_watched
    walls = {(wall.call, wall.target): wall for wall in result.blocked}
    tcp, udp = walls["connect", "93.184.216.34:80/tcp"], walls["sendto", "10.1.2.3:9999/udp"]
    assert lines[:2] == [f"tcp {tcp.errno}", f"udp {udp.errno}"], "predicted as the kernel answered"
    assert (tcp.wall, tcp.errno, tcp.exact, tcp.count) == ("network", "ENETUNREACH", False, 1)
    dns = walls["dns", "example.com"]
    assert (dns.wall, dns.errno, dns.exact) == ("network", "EAI_AGAIN", True) and dns.count >= 1
    assert not any("127.0.0.1" in target for _, target in walls), "loopback is no wall"


def test_node_and_c_look_ups_and_connections_are_walls_too(sandbox):
    node = ("require('dns').lookup('example.org', (err) => {\n"
            "  console.log('dns', err.code);\n"
            "  require('net').connect(443, '203.0.113.9').on('error', (e) => console.log('tcp', e.code));\n"
            "});\n")
    result = list(sandbox.start(node, "javascript", Limits()).events())[-1].result
    assert result.output.splitlines() == ["dns EAI_AGAIN", "tcp ENETUNREACH"], result
    assert {(wall.call, wall.target) for wall in result.blocked} == {
        ("dns", "example.org"), ("connect", "203.0.113.9:443/tcp")}
    c = ("#include <netdb.h>\n#include <stdio.h>\nint main(void) {\n"
         "  struct addrinfo *ai;\n  int rc = getaddrinfo(\"example.net\", \"80\", 0, &ai);\n"
         "  printf(\"%s\\n\", gai_strerror(rc));\n  return 0;\n}\n")
    result = list(sandbox.start(c, "c", Limits()).events())[-1].result
    assert result.output == "Temporary failure in name resolution\n", result
    assert [(wall.call, wall.target) for wall in result.blocked] == [("dns", "example.net")]


def test_with_the_network_on_nothing_is_watched_there(sandbox):
    """Nothing is blocked then: the run does not claim to have watched it."""
    result = events_of(sandbox, "print('hi')", network=True)[-1].result
    assert result.output == "hi\n" and "network" not in result.walls_watched and result.blocked == ()


def test_a_scan_of_many_addresses_stays_a_bounded_list(sandbox):
    scan = ("import socket\nfor last in range(200):\n    for _ in range(5):\n        try:\n"
            "            socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', (f'10.9.0.{last}', 7))\n"
            "        except OSError:\n            pass\nprint('done')\n")
    result = events_of(sandbox, scan)[-1].result
    assert result.output == "done\n"
    assert len(result.blocked) == 32 + 1, "32 targets of their own, then the rest as one: other"
    other = next(wall for wall in result.blocked if wall.target == "other")
    assert sum(wall.count for wall in result.blocked) == 1000 and other.count == (200 - 32) * 5


FILES = ATTEMPT + """
attempt("create", lambda: open("/sandbox/notes.txt", "w"))
attempt("append", lambda: open("/etc/passwd", "a"))
attempt("mkdir", lambda: os.mkdir("out"))
attempt("mkdir-exists", lambda: os.mkdir("/sandbox"))
attempt("unlink", lambda: os.unlink("/sandbox/missing.txt"))
attempt("rename", lambda: os.rename("/etc/hosts", "/etc/hosts2"))
attempt("chmod", lambda: os.chmod("/etc/passwd", 0o777))
attempt("symlink", lambda: os.symlink("/etc/passwd", "/sandbox/link"))
attempt("tmp", lambda: open("/tmp/fine.txt", "w").write("x"))
attempt("missing", lambda: open("/nonexistent/x", "w"))
attempt("read", lambda: open("/etc/passwd").read())
"""
# Each attempt: the call the program makes and the path it passes.
FILE_CALLS = {"create": ("openat", "/sandbox/notes.txt"), "append": ("openat", "/etc/passwd"),
              "mkdir": ("mkdir", "out"), "mkdir-exists": ("mkdir", "/sandbox"),
              "unlink": ("unlink", "/sandbox/missing.txt"), "rename": ("rename", "/etc/hosts"),
              "chmod": ("chmod", "/etc/passwd"), "symlink": ("symlink", "/sandbox/link"),
              "tmp": ("openat", "/tmp/fine.txt"), "missing": ("openat", "/nonexistent/x"),
              "read": ("openat", "/etc/passwd")}


def file_walls(sandbox, runtime="runc", **limits):
    result = events_of(sandbox, FILES, runtime=runtime, **limits)[-1].result
    got = dict(line.split() for line in result.output.splitlines())
    assert set(got) == set(FILE_CALLS), result
    return result, got


@pytest.mark.parametrize("writable", [False, True], ids=["read-only", "writable"])
def test_changes_the_sandbox_refuses_are_walls_with_the_errno_the_program_got(sandbox, writable):
    """Each refusal the sandbox makes (the read-only root: EROFS; a file not the sandbox
    user's: EACCES, EPERM) is a wall on the call and path the program used, with the
    errno the init predicted, which is the kernel's own; a change that works (in /tmp),
    or fails for the program's own reasons (no such directory, already there), is none."""
    result, got = file_walls(sandbox, read_only=not writable)
    assert "filesystem" in result.walls_watched
    walls = {(wall.call, wall.target): wall for wall in result.blocked if wall.wall == "filesystem"}
    refused = {what for what, errno in got.items() if errno in ("EROFS", "EACCES", "EPERM")}
    for what in refused:
        wall = walls.get(FILE_CALLS[what])
        assert wall is not None, f"{what}: {got[what]} but no wall; walls: {sorted(walls)}"
        assert (wall.errno, wall.exact) == (got[what], False), (what, wall)
    seen = {FILE_CALLS[what] for what in refused}
    assert set(walls) == seen, "a wall for a change that was not refused by the sandbox"
    assert got["tmp"] == "ok" and got["missing"] == "ENOENT" and got["mkdir-exists"] == "EEXIST"
    if not writable:
        assert got["create"] == "EROFS" and got["mkdir"] == "EROFS" and got["unlink"] == "EROFS"
    else:
        assert got["create"] == "ok" and got["append"] == "EACCES"


def test_no_filesystem_wall_can_be_seen_under_gvisor(sandbox):
    result, got = file_walls(sandbox, runtime="runsc")
    assert got["create"] == "EROFS" and result.blocked is None


BY_ARGUMENTS = """
import ctypes, errno, os, socket
libc = ctypes.CDLL(None, use_errno=True)
made = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)       # clone(CLONE_NEWUSER | SIGCHLD)
if made == 0:
    os._exit(0)                                             # a child, had it been allowed
print("clone", made, errno.errorcode.get(ctypes.get_errno()), flush=True)
for name, family, kind, protocol in [("packet", 17, socket.SOCK_RAW, 0),
                                     ("raw", socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)]:
    try:
        socket.socket(family, kind, protocol)
        print(name, "ok", flush=True)
    except OSError as exc:
        print(name, errno.errorcode[exc.errno], flush=True)
print("interfaces", *[name for _, name in socket.if_nameindex()], flush=True)
child = os.fork()
if child == 0:
    os._exit(0)
os.waitpid(child, 0)
print("fork ok")
"""


def test_calls_refused_for_their_arguments_are_walls_named_by_them(sandbox, runtime):
    """clone with a namespace flag, and packet and raw sockets: refused (EPERM), each a wall
    named by its arguments; a plain fork and netlink's raw socket (how glibc lists the
    interfaces) go on as before."""
    result = events_of(sandbox, BY_ARGUMENTS, runtime=runtime)[-1].result
    lines = result.output.splitlines()
    assert lines[3:] == ["interfaces lo", "fork ok"], result
    if runtime == "runsc":
        assert result.blocked is None
        return
    assert lines[:3] == ["clone -1 EPERM", "packet EPERM", "raw EPERM"], result
    assert [(wall.wall, wall.call, wall.target, wall.errno, wall.exact) for wall in result.blocked] == [
        ("syscall", "clone", "CLONE_NEWUSER", "EPERM", True), ("syscall", "socket", "AF_PACKET", "EPERM", True),
        ("syscall", "socket", "SOCK_RAW/AF_INET", "EPERM", True)]


def test_a_network_wall_shows_between_what_the_program_said_before_and_after_it(sandbox):
    source = ("import socket, time\nprint('before', flush=True)\ntime.sleep(0.3)\n"
              "try:\n    socket.gethostbyname('example.com')\nexcept OSError:\n    pass\n"
              "print('after', flush=True)\n")
    for _ in range(3):
        events = events_of(sandbox, source)
        said = "".join(f"<wall {event.call}>" if isinstance(event, Blocked) else event.text
                       for event in events if isinstance(event, Blocked | Output))
        assert said.startswith("before\n<wall dns>") and "after\n" in said.split("<wall dns>", 1)[1], said


# One program that hits a wall of each kind (with pids=16), for the fronts' tests.
EVERY_KIND = FORKS + """
import ctypes, socket
ctypes.CDLL(None).unshare(0x10000000)
try:
    socket.gethostbyname("example.com")
except OSError:
    pass
try:
    open("/sandbox/notes.txt", "w")
except OSError:
    pass
print("done", flush=True)
"""
EVERY_KIND_WALLS = {("process", "fork", ""), ("syscall", "unshare", ""), ("network", "dns", "example.com"),
                    ("filesystem", "openat", "/sandbox/notes.txt")}


def test_one_program_hits_a_wall_of_each_kind(sandbox):
    result = events_of(sandbox, EVERY_KIND, pids=16)[-1].result
    assert result.output.endswith("done\n")
    assert {(wall.wall, wall.call, wall.target) for wall in result.blocked} == EVERY_KIND_WALLS
