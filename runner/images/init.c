/*
 * sandbox-init: PID 1 of every tui-sandbox container.
 *
 * Why a program of our own as init, rather than `docker run IMAGE python3 main.py`:
 *  - Docker's exit code cannot tell exit(139) from a SIGSEGV, nor exit(137) from
 *    a SIGKILL. Only the parent that waits for the program sees its real status.
 *  - The deadline must hold even if the tui-sandbox process that started the
 *    container is killed: the init enforces it from inside.
 *  - Short runs end before Docker's stats stream sends its first frame (about
 *    1 s). The init reads the container's own cgroup every interval, and once at
 *    the end, so every run has CPU, memory, PIDs and the peak.
 *  - No output may be lost. The program writes into pipes of the init's own, and the
 *    init relays them to the container's stdout and stderr. Under gVisor a large
 *    write to the container's pipe comes back short (64 KiB), and unbuffered CPython
 *    drops the rest without a word; the init loops over short writes instead.
 *  - Nor may too much be kept: the output cap is enforced here, cut at the exact byte,
 *    and the program killed at once, not a round trip through Docker later. (The
 *    program cannot write past the init through /proc/1/fd/1: the init's uid is not
 *    its own, see uid= below. The controller keeps a cap of its own all the same.)
 *  - The program must not be able to end, stop or read the init on any runtime: the
 *    init starts as root only to leave it for a uid of its own (uid=, init_uid=).
 *  - The limits (file size, open files, processes, message queues, core files) are
 *    set by the init on the program, so a backend without Docker's ulimits gets them.
 *    gVisor refuses RLIMIT_MSGQUEUE from inside: there the runtime must set it (Docker:
 *    --ulimit msgqueue=0), or the init will not start the program.
 *  - A container can be started early, as a warm spare, and wait for its program: the
 *    deadline starts when the source has arrived, never at container start.
 *
 * Usage:  init KEY=VALUE ... -- NCOMPILE [compile argv...] run argv...
 *   timeout_ms=N          the run's deadline, from its start (required, >= 1)
 *   compile_timeout_ms=N  the compile's deadline (default: timeout_ms)
 *   interval_ms=N         how often to sample the cgroup (default 250)
 *   source=PATH           the source's path in the image, which must be a link to
 *                         /proc/self/fd/3 (checked, so an image without one says so)
 *   idle_ms=N             no whole header line within N ms of start: exit 0, and
 *                         say nothing (0: wait for ever). The source after it has no
 *                         timer: whoever sends the header sends the source with it.
 *   output_bytes=N        relay at most N bytes of stdout and stderr together, over
 *                         both phases; past that, kill the program (0: no cap)
 *   watch=NAME,...        calls the init refuses itself (EPERM) and reports as walls
 *                         (W records); the container's profile must let them through
 *   net=off               the network is off: report each connection or datagram to an
 *                         address off this container (W kind=network), and answer the
 *                         program's name look-ups itself on 127.0.0.1:53 (where an empty
 *                         resolv.conf sends them), refusing each (SERVFAIL) and reporting
 *                         the name asked for. Port 53 needs the container's
 *                         net.ipv4.ip_unprivileged_port_start at 53 or below
 *   files=watch           report each change to the filesystem the sandbox refuses (the
 *                         read-only root, files not the sandbox user's) as a wall
 *   uid=N init_uid=N      the program runs as uid and gid N; the init, started as root,
 *                         keeps init_uid as its real and saved uid and drops every
 *                         capability, so the program cannot signal, trace or open it
 *                         (see leave_root)
 *   fsize=N nofile=N nproc=N   RLIMIT_FSIZE, _NOFILE, _NPROC of the program, soft and
 *                         hard (0: leave alone). Under runc nproc counts every process
 *                         of the uid on the host: pass it only under gVisor.
 * The first NCOMPILE words after `--` are the compile command (none if 0). An unknown
 * key or a malformed line: one line on stderr, exit 125.
 *
 * Standard input starts with a line "NONCE SIZE", then SIZE bytes of the program's
 * source; the rest belongs to the program, whose stdin is the container's own. End of
 * file before the header means its owner is gone: exit 0, silently. The source goes
 * into a sealed memfd on fd 3 (no write, shrink or grow, ever), and the source path is
 * a root-owned symlink in the image to /proc/self/fd/3: the program reads its source by
 * its usual name but cannot change it, and no archive needs copying into the container
 * before start (Docker's put_archive costs as much as a fifth of a run). Records go to
 * stderr as
 *     \x1e NONCE KIND key=value ...\n
 * KIND is S (a stats sample, with stdin_wait=1 while the program is blocked reading its
 * standard input) or E (the end of a phase: how it ended, timed_out,
 * output_limited, elapsed_ms, the cgroup's figures, and the program's own maxrss_kb and
 * rusage_cpu_ns from wait4, which hold where the cgroup cannot be read), and last,
 * (W: a wall, see watch=, net= and files=, its first hit on stdout, where the program's
 * output is, its later counts here; E says calls_watched=N, how many calls were
 * watched, net_watched=1 when the network was and files_watched=1 when the files were;
 * both S and E carry throttled_ns, the time the CPU limit held the program back, and
 * pids_refused, the forks the PID limit refused, from the cgroup: -1 where unreadable),
 * D (done) on both
 * stdout and stderr: Docker copies the two pipes apart, so D on each says that
 * stream is complete, and the controller need not wait for the container to be torn
 * down. A record joins the program's bytes in the same buffer, whole, so it never
 * interleaves with them. The program cannot forge one: it never sees the nonce, and E
 * and D are written after every process of the program is dead and its pipes drained.
 *
 * The init never blocks on a write: the container's stdout and stderr are written
 * non-blocking from a bounded buffer each, so a slow or stalled reader holds up the
 * program (its pipe fills) but never the deadline or the samples. What is still
 * buffered when the program has ended waits for the reader until the deadline, and
 * after it as long as the reader keeps taking it (STALL_MS, GRACE_MS); then the init
 * exits without it (and so without E and D: the controller sees no report).
 *
 * Exit status: the program's (124 if it timed out, 128+N if signal N killed it, so 137
 * past the output cap; 127 if it could not be started), 125 if the init failed (its
 * command line, the header, the source), 0 if no program ever came.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <sched.h>
#include <sys/statvfs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Per stream: big enough that a flood moves in few system calls, small next to the
 * container's memory limit (it is counted there). */
#define BUF_SIZE (256 * 1024)
/* The top of each buffer the program's bytes never take, so records always fit:
 * samples may use it down to SAMPLE_ROOM from the end (then they are dropped), E and
 * D all of it (two E and a D are far less than SAMPLE_ROOM). */
#define RECORD_ROOM 4096
#define SAMPLE_ROOM 2048
#define RECORD_MAX 512
/* A trickle of small writes is gathered for this long before the init reads it: waking
 * for each one (and under gVisor, writing each to the host) cost more CPU than the
 * program's own writes (100,000 lines: 14 s instead of 9 s under runsc at 0.5 CPU). */
#define GATHER_MS 2
#define GATHER_BELOW (16 * 1024)
/* After the deadline, buffered output waits this long for a stalled reader to take
 * some, and at most GRACE_MS in all: less than the controller's own grace (5 s), so the
 * init's exit, not the controller's kill, ends the container, report and all. */
#define STALL_MS 1000
#define GRACE_MS 3000
#define MAX_VALUE (1LL << 50)

struct options {
    long long timeout_ms, compile_timeout_ms, interval_ms, idle_ms, output_bytes;
    long long fsize, nofile, nproc;
    long long uid, init_uid; /* the program's uid (and gid); the init's own real uid */
    const char *source;
    const char *watch;   /* the calls the init refuses itself and reports: names, by commas */
    int net_off;         /* net=off: watch connections and name look-ups */
    int watch_files;     /* files=watch: watch changes to the filesystem */
};

/* One of the program's output streams on its way to the container's fd: a ring buffer
 * between the read end of the program's pipe and a non-blocking container fd. */
struct stream {
    int in;          /* the program's pipe; -1 once at end of file */
    int out;         /* the container's fd; -1 once nobody reads it (then output is dropped) */
    size_t head, len;
    long long moving;       /* when it last got bytes out, or had none to get out */
    long long gather_until; /* no reading before then: a trickle is gathering in the pipe */
    char buf[BUF_SIZE];
};

static char nonce[72];
static struct options opt = {.interval_ms = 250};
static struct stream streams[2]; /* zero here (in .bss, not 512 KiB of the binary); fds set in main */
static struct stream *const out_stream = &streams[0], *const err_stream = &streams[1];
static int sig_fd = -1;
static long long relayed;         /* the program's bytes taken, both streams, all phases */
static int output_limited;        /* a byte past output_bytes came: the program is killed */

struct cgroup_sample {
    long long memory, peak, cpu_ns, pids, oom_kills;
    /* How long the CPU limit held the program back, and how many forks the PID limit
     * refused (pids.events' "max": exact, the kernel counts each one). */
    long long throttled_ns, pids_refused;
};

struct phase {
    int status, timed_out, output_limited;
    long long elapsed_ms, deadline;
    /* The program's own resource use (with its children it waited for), from wait4: the
     * one source of its peak memory and CPU time where the cgroup cannot be read (gVisor). */
    struct rusage usage;
};

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int poll_ms(long long ms) {
    return ms <= 0 ? 0 : ms > INT_MAX ? INT_MAX : (int)ms;
}

/* A small file's text into buf (NUL-terminated); its length, or -1. */
static ssize_t read_text(const char *path, char *buf, size_t size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    return n;
}

static long long read_number(const char *path) {
    char buf[64];
    if (read_text(path, buf, sizeof buf) < 0 || strncmp(buf, "max", 3) == 0) return -1;
    return strtoll(buf, NULL, 10);
}

/* The value of a "key value" line in a flat-keyed cgroup file, or -1. */
static long long read_key(const char *path, const char *key) {
    char buf[8192];
    if (read_text(path, buf, sizeof buf) < 0) return -1;
    size_t klen = strlen(key);
    for (char *line = buf; line && *line; ) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
            return strtoll(line + klen + 1, NULL, 10);
        line = strchr(line, '\n');
        if (line) line++;
    }
    return -1;
}

static long long first_number(const char *a, const char *b) {
    long long v = read_number(a);
    return v >= 0 ? v : read_number(b);
}

/* Memory as `docker stats` shows it: usage less inactive file cache. */
static void sample_cgroup(struct cgroup_sample *s) {
    long long usage = read_number("/sys/fs/cgroup/memory/memory.usage_in_bytes");
    if (usage >= 0) { /* cgroup v1 */
        long long inactive = read_key("/sys/fs/cgroup/memory/memory.stat", "total_inactive_file");
        s->memory = usage - (inactive > 0 ? inactive : 0);
        s->peak = read_number("/sys/fs/cgroup/memory/memory.max_usage_in_bytes");
        s->oom_kills = read_key("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill");
        s->cpu_ns = first_number("/sys/fs/cgroup/cpuacct/cpuacct.usage",
                                 "/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage");
        s->pids = read_number("/sys/fs/cgroup/pids/pids.current");
        s->throttled_ns = read_key("/sys/fs/cgroup/cpu/cpu.stat", "throttled_time");
        if (s->throttled_ns < 0) s->throttled_ns = read_key("/sys/fs/cgroup/cpu,cpuacct/cpu.stat", "throttled_time");
        s->pids_refused = read_key("/sys/fs/cgroup/pids/pids.events", "max");
    } else { /* cgroup v2 */
        usage = read_number("/sys/fs/cgroup/memory.current");
        long long inactive = read_key("/sys/fs/cgroup/memory.stat", "inactive_file");
        s->memory = usage < 0 ? -1 : usage - (inactive > 0 ? inactive : 0);
        s->peak = read_number("/sys/fs/cgroup/memory.peak");
        s->oom_kills = read_key("/sys/fs/cgroup/memory.events", "oom_kill");
        long long usec = read_key("/sys/fs/cgroup/cpu.stat", "usage_usec");
        s->cpu_ns = usec < 0 ? -1 : usec * 1000;
        s->pids = read_number("/sys/fs/cgroup/pids.current");
        long long throttled_usec = read_key("/sys/fs/cgroup/cpu.stat", "throttled_usec");
        s->throttled_ns = throttled_usec < 0 ? -1 : throttled_usec * 1000;
        s->pids_refused = read_key("/sys/fs/cgroup/pids.events", "max");
    }
    if (s->peak >= 0 && s->memory > s->peak) s->peak = s->memory;
}

/* --- the relay ------------------------------------------------------------------- */

/* [from, from + n) of the ring as at most two pieces. */
static int ring_iov(struct stream *s, size_t from, size_t n, struct iovec iov[2]) {
    from %= BUF_SIZE;
    size_t first = BUF_SIZE - from < n ? BUF_SIZE - from : n;
    iov[0] = (struct iovec){s->buf + from, first};
    iov[1] = (struct iovec){s->buf, n - first};
    return n > first ? 2 : 1;
}

/* Writes what is buffered until the container's pipe is full; never waits for room. */
static void flush(struct stream *s) {
    while (s->len > 0 && s->out >= 0) {
        struct iovec iov[2];
        int k = ring_iov(s, s->head, s->len, iov);
        ssize_t w = writev(s->out, iov, k);
        if (w > 0) {
            s->head = (s->head + w) % BUF_SIZE;
            s->len -= w;
            s->moving = now_ms();
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w == 0 || errno == EAGAIN) return;
        /* EPIPE and the like: the reader is gone for good, and what it would have read
         * with it. Output is still drained, so the program is not held up. */
        s->out = -1;
        s->len = 0;
    }
}

static void put(struct stream *s, const char *p, size_t n) {
    if (s->len == 0) s->moving = now_ms();
    struct iovec iov[2];
    int k = ring_iov(s, s->head + s->len, n, iov);
    for (int i = 0; i < k; i++) {
        memcpy(iov[i].iov_base, p, iov[i].iov_len);
        p += iov[i].iov_len;
    }
    s->len += n;
}

/* A record enters the stream whole, between the program's bytes. Samples are dropped
 * when the reader lags far behind; E and D always fit (RECORD_ROOM). */
static void record(struct stream *s, int sample, const char *fmt, ...) {
    char buf[RECORD_MAX];
    int n = snprintf(buf, sizeof buf, "\x1e%s ", nonce);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof buf - n, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof buf - 1) n = sizeof buf - 2;
    buf[n++] = '\n';
    if (s->out < 0 || s->len + n > (size_t)(sample ? BUF_SIZE - SAMPLE_ROOM : BUF_SIZE)) return;
    put(s, buf, n);
    flush(s);
}

/* The init's own complaints while the relay runs: in order with the rest of stderr. */
static void say(const char *fmt, ...) {
    char buf[RECORD_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof buf) n = sizeof buf - 1;
    struct stream *s = err_stream;
    if (s->out < 0 || s->len + n > BUF_SIZE - SAMPLE_ROOM) return;
    put(s, buf, n);
    flush(s);
}

/* Takes what the program wrote, as far as the buffer has room. Past the output cap,
 * and for a stream nobody reads any more, it is read and thrown away, a buffer's worth
 * a round: a program writing as fast as it is thrown away must not keep the init from
 * its deadline. */
static void fill(struct stream *s) {
    static char scratch[65536];
    size_t got = 0;
    while (s->in >= 0 && got < BUF_SIZE) {
        ssize_t n;
        int discard = output_limited || s->out < 0;
        if (discard) {
            n = read(s->in, scratch, sizeof scratch);
        } else {
            size_t room = s->len < BUF_SIZE - RECORD_ROOM ? BUF_SIZE - RECORD_ROOM - s->len : 0;
            if (room == 0) return;
            struct iovec iov[2];
            int k = ring_iov(s, s->head + s->len, room, iov);
            n = readv(s->in, iov, k);
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            if (got < GATHER_BELOW) s->gather_until = now_ms() + GATHER_MS;
            return;
        }
        if (n <= 0) { /* end of file: every writer is gone */
            close(s->in);
            s->in = -1;
            return;
        }
        long long keep = n;
        if (opt.output_bytes > 0 && relayed + keep > opt.output_bytes) {
            keep = opt.output_bytes - relayed;
            output_limited = 1;
        }
        relayed += keep;
        got += n;
        if (discard || keep == 0) continue;
        if (s->len == 0) s->moving = now_ms();
        s->len += keep;
    }
}

/* --- the calls the sandbox refuses, watched ------------------------------------------
 *
 * For the calls named by watch=, the program gets a seccomp filter (installed in the
 * child, before exec, inherited by all it starts) that hands each such call to this
 * init, which refuses it (EPERM: the answer is exact, as it is ours) and counts it. The
 * container's own profile allows them so that they reach us: the kernel applies the
 * strictest answer of all filters, and an ERRNO there would hide the call. If this init
 * is gone, the kernel fails a watched call with ENOSYS: it never runs. If the filter
 * cannot be installed (gVisor has no listener), the program is not started at all.
 * Reported as W records (call, errno, count, t_ms of the first): at the first hit, as
 * the count moves (with the samples), and last before E. */

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

#define CALL(name) {#name, SYS_##name}
static const struct { const char *name; long nr; } KNOWN_CALLS[] = {
#ifdef SYS_mount
    CALL(mount),
#endif
#ifdef SYS_umount2
    CALL(umount2),
#endif
#ifdef SYS_pivot_root
    CALL(pivot_root),
#endif
#ifdef SYS_chroot
    CALL(chroot),
#endif
#ifdef SYS_unshare
    CALL(unshare),
#endif
#ifdef SYS_setns
    CALL(setns),
#endif
#ifdef SYS_ptrace
    CALL(ptrace),
#endif
#ifdef SYS_process_vm_readv
    CALL(process_vm_readv),
#endif
#ifdef SYS_process_vm_writev
    CALL(process_vm_writev),
#endif
#ifdef SYS_keyctl
    CALL(keyctl),
#endif
#ifdef SYS_add_key
    CALL(add_key),
#endif
#ifdef SYS_request_key
    CALL(request_key),
#endif
#ifdef SYS_bpf
    CALL(bpf),
#endif
#ifdef SYS_perf_event_open
    CALL(perf_event_open),
#endif
#ifdef SYS_userfaultfd
    CALL(userfaultfd),
#endif
#ifdef SYS_kexec_load
    CALL(kexec_load),
#endif
#ifdef SYS_init_module
    CALL(init_module),
#endif
#ifdef SYS_finit_module
    CALL(finit_module),
#endif
#ifdef SYS_delete_module
    CALL(delete_module),
#endif
#ifdef SYS_reboot
    CALL(reboot),
#endif
#ifdef SYS_sethostname
    CALL(sethostname),
#endif
#ifdef SYS_settimeofday
    CALL(settimeofday),
#endif
#ifdef SYS_clock_settime
    CALL(clock_settime),
#endif
};
#define MAX_WATCHED 64

static struct watched { const char *name; long nr; long long count, said, first_ms; } watched[MAX_WATCHED];
static int n_watched;

/* The walls seen by their arguments (network, filesystem), one per kind, call and target
 * (a repeat counts). Past MAX_TARGETS of them, a new target of a call folds into that
 * call's "other"; past MAX_SEEN in all, it goes uncounted: bounded, whatever the flood. */
#define MAX_TARGETS 32
#define MAX_SEEN 48
static struct seen_wall {
    char kind[12], call[12], target[264], err[16];
    int exact;
    long long count, said, first_ms;
} seen[MAX_SEEN];
static int n_seen;
static int dns_fd = -1;            /* net=off: the refusing name server on 127.0.0.1:53 */
static int have_ipv6;              /* whether the container has an IPv6 address (lo's ::1) */
static int watch_fd = -1;          /* the listener, while a phase's program runs */
static long long watch_t0;         /* the phase's start, for t_ms */

/* watch=NAME,NAME,...: 0, or -1 for a name this init does not know. */
static int parse_watch(const char *list) {
    char copy[1024];
    if (strlen(list) >= sizeof copy) return -1;
    strcpy(copy, list);
    for (char *name = strtok(copy, ","); name; name = strtok(NULL, ",")) {
        int found = -1;
        for (size_t i = 0; i < sizeof KNOWN_CALLS / sizeof KNOWN_CALLS[0]; i++)
            if (strcmp(KNOWN_CALLS[i].name, name) == 0) found = (int)i;
        if (found < 0 || n_watched >= MAX_WATCHED) return -1;
        watched[n_watched++] = (struct watched){KNOWN_CALLS[found].name, KNOWN_CALLS[found].nr, 0, 0, -1};
    }
    return 0;
}

/* --- the filesystem's walls ------------------------------------------------------------
 *
 * Calls that would change the filesystem: opens for writing (by their flags, in the
 * filter), creating, removing, renaming and linking names, and changing a file's mode,
 * owner, size or times. The init predicts the kernel's answer, in the kernel's own order
 * of checks, from what it can see without doing anything on the program's behalf (stat,
 * statvfs, the program's cwd), lets the call go on, and reports it as a wall when the
 * answer is a refusal the sandbox makes: the read-only root (EROFS), or the files that
 * are not the sandbox user's (EACCES, EPERM). A call that fails for the program's own
 * reasons (no such file, already exists) or succeeds is no wall. */

enum fs_change { FS_OPEN, FS_CREATE, FS_REMOVE, FS_MODE, FS_OWNER, FS_SIZE, FS_TIMES };

/* Each call: its path argument, its directory fd argument (-1: relative to the cwd),
 * its flags argument for opens (-1: none; -2: openat2's struct open_how). */
#define FS(name, path, dirfd, flags, change) {#name, SYS_##name, path, dirfd, flags, change}
static const struct fs_call { const char *name; long nr; int path, dirfd, flags; enum fs_change change; } FS_CALLS[] = {
#ifdef SYS_open
    FS(open, 0, -1, 1, FS_OPEN),
#endif
#ifdef SYS_creat
    FS(creat, 0, -1, -1, FS_OPEN),
#endif
    FS(openat, 1, 0, 2, FS_OPEN),
#ifdef SYS_openat2
    FS(openat2, 1, 0, -2, FS_OPEN),
#endif
#ifdef SYS_mkdir
    FS(mkdir, 0, -1, -1, FS_CREATE),
#endif
    FS(mkdirat, 1, 0, -1, FS_CREATE),
#ifdef SYS_mknod
    FS(mknod, 0, -1, -1, FS_CREATE),
#endif
    FS(mknodat, 1, 0, -1, FS_CREATE),
#ifdef SYS_link
    FS(link, 1, -1, -1, FS_CREATE),
#endif
    FS(linkat, 3, 2, -1, FS_CREATE),
#ifdef SYS_symlink
    FS(symlink, 1, -1, -1, FS_CREATE),
#endif
    FS(symlinkat, 2, 1, -1, FS_CREATE),
#ifdef SYS_unlink
    FS(unlink, 0, -1, -1, FS_REMOVE),
#endif
    FS(unlinkat, 1, 0, -1, FS_REMOVE),
#ifdef SYS_rmdir
    FS(rmdir, 0, -1, -1, FS_REMOVE),
#endif
#ifdef SYS_rename
    FS(rename, 0, -1, -1, FS_REMOVE),
#endif
#ifdef SYS_renameat
    FS(renameat, 1, 0, -1, FS_REMOVE),
#endif
    FS(renameat2, 1, 0, -1, FS_REMOVE),
#ifdef SYS_chmod
    FS(chmod, 0, -1, -1, FS_MODE),
#endif
    FS(fchmodat, 1, 0, -1, FS_MODE),
#ifdef SYS_chown
    FS(chown, 0, -1, -1, FS_OWNER),
#endif
#ifdef SYS_lchown
    FS(lchown, 0, -1, -1, FS_OWNER),
#endif
    FS(fchownat, 1, 0, -1, FS_OWNER),
    FS(truncate, 0, -1, -1, FS_SIZE),
    FS(utimensat, 1, 0, -1, FS_TIMES),
};
#define N_FS_CALLS (sizeof FS_CALLS / sizeof FS_CALLS[0])
/* The open flags that can change a file (glibc's __O_TMPFILE holds O_DIRECTORY, so only its
 * own bit, which would match every directory open otherwise). */
#define WRITE_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND | 020000000)
/* clone's namespace flags: NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET (the
 * mask Docker's profile checks). */
#define NAMESPACE_FLAGS 0x7E020000u
/* From Linux 6.6's <linux/seccomp.h>, newer than the image's headers. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

/* In the child, before exec: the filter, and its listener handed to the init over sock.
 * Any call of another architecture (or x32's) is refused outright: the watched numbers
 * are this architecture's. Never returns on failure: the program must not run unwatched. */
static void install_watch(int sock) {
#ifndef NATIVE_ARCH
    dprintf(2, "tui-sandbox: cannot watch the program's calls on this architecture\n");
    _exit(127);
#else
    struct sock_filter f[4 + 2 * MAX_WATCHED + 40 + 5 * N_FS_CALLS + 8];
    int n = 0;
    /* The message that hands the listener over, here so that its address is known: the
     * filter lets this one sendmsg through (the init is not answering yet: it waits for
     * it), by its socket and its address, which nothing after exec can know. */
    char byte = 'L', control[CMSG_SPACE(sizeof(int))];
    memset(control, 0, sizeof control);
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    unsigned long long handover = (unsigned long long)(uintptr_t)&msg;
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (int i = 0; i < n_watched; i++) {
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)watched[i].nr, 0, 1);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
    }
    if (n_watched > 0) {
        /* Refused by their arguments, which sit in registers: clone with a namespace flag
         * (Docker's own mask; the container's profile lets clone through for this), and
         * sockets that need CAP_NET_RAW (packet, raw; netlink's raw sockets are
         * everyday: glibc lists interfaces with them). Answered EPERM, as the kernel or
         * the profile would. */
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NAMESPACE_FLAGS, 0, 1);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 8);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_PACKET, 5, 0);
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 3, 0);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));
        f[n++] = (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf);
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_RAW, 1, 0);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
    }
    if (opt.net_off) {
        /* Seen and let through (the kernel refuses them itself): connect and sendmsg
         * always, sendto only with an address. The address is in memory, which a filter
         * cannot read: the init reads it. */
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_connect, 0, 1);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sendmsg, 0, 8);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)sock, 0, 5);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]));
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)handover, 0, 3);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1]) + 4);
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)(handover >> 32), 0, 1);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
        /* sendto(fd, buf, len, flags, addr, addrlen): notify unless addr (args[4]) is NULL. */
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_sendto, 0, 6);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[4]));
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[4]) + 4);
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
    }
    if (opt.watch_files) {
        /* Opens only with a flag that can change the file (the flags are in a register);
         * the rest always. Each open block ends in a return: it loads over the number. */
        for (size_t i = 0; i < N_FS_CALLS; i++) {
            if (FS_CALLS[i].flags >= 0) continue;
            f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)FS_CALLS[i].nr, 0, 1);
            f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
        }
        for (size_t i = 0; i < N_FS_CALLS; i++) {
            if (FS_CALLS[i].flags < 0) continue;
            f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)FS_CALLS[i].nr, 0, 4);
            f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                                  offsetof(struct seccomp_data, args[0]) + 8 * FS_CALLS[i].flags);
            f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, WRITE_FLAGS, 0, 1);
            f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
            f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
        }
    }
#if defined(__x86_64__)
    /* x32 calls carry bit 30: of another ABI, not watched by number here. */
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
#endif
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {.len = (unsigned short)n, .filter = f};
    int listener = -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0)
        listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (listener < 0) {
        dprintf(2, "tui-sandbox: cannot watch the program's calls (%s): not starting it\n", strerror(errno));
        _exit(127);
    }
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &listener, sizeof(int));
    if (sendmsg(sock, &msg, 0) != 1) {
        dprintf(2, "tui-sandbox: cannot hand over the watch: %s\n", strerror(errno));
        _exit(127);
    }
    close(listener);
    close(sock);
#endif
}

/* In the init: the listener the child sent, or -1 if it sent none (it has exited then,
 * saying why). */
static int receive_watch(int sock) {
    char byte, control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    ssize_t n;
    do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
    struct cmsghdr *c = n == 1 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

/* Where a wall's first record goes: into standard output, after what the program wrote
 * there before its call (taken in first), so that the wall shows where it happened. The
 * two streams travel apart (Docker copies each pipe on its own), so only one of them can
 * hold the record in place: the one most programs write to. Later counts go to stderr. */
static struct stream *stream_for_new_wall(void) {
    for (int i = 0; i < 2; i++)
        if (streams[i].in >= 0) fill(&streams[i]);
    return out_stream;
}

static void say_seen_wall(struct seen_wall *w, struct stream *to, int sample) {
    w->said = w->count;
    record(to, sample, "W kind=%s call=%s target=%s errno=%s exact=%d count=%lld t_ms=%lld",
           w->kind, w->call, w->target, w->err, w->exact, w->count, w->first_ms);
}

static void say_walls(int final) {
    for (int i = 0; i < n_watched; i++) {
        struct watched *w = &watched[i];
        if (w->count == w->said || (!final && w->said == 0 && w->count == 0)) continue;
        w->said = w->count;
        record(err_stream, !final, "W kind=syscall call=%s errno=EPERM count=%lld t_ms=%lld",
               w->name, w->count, w->first_ms);
    }
    for (int i = 0; i < n_seen; i++)
        if (seen[i].count != seen[i].said) say_seen_wall(&seen[i], err_stream, !final);
}

static struct seen_wall *find_seen(const char *kind, const char *call, const char *target) {
    for (int i = 0; i < n_seen; i++)
        if (!strcmp(seen[i].kind, kind) && !strcmp(seen[i].call, call) && !strcmp(seen[i].target, target))
            return &seen[i];
    return NULL;
}

/* Counts one hit of a wall seen by its arguments; the first hit of each is told at once. */
static void seen_wall(const char *kind, const char *call, const char *target, const char *err, int exact) {
    struct seen_wall *w = find_seen(kind, call, target);
    if (!w && n_seen >= MAX_TARGETS) {
        target = "other";
        w = find_seen(kind, call, target);
    }
    if (!w) {
        if (n_seen == MAX_SEEN) return;
        w = &seen[n_seen++];
        snprintf(w->kind, sizeof w->kind, "%s", kind);
        snprintf(w->call, sizeof w->call, "%s", call);
        snprintf(w->target, sizeof w->target, "%s", target);
        snprintf(w->err, sizeof w->err, "%s", err);
        w->exact = exact;
        w->first_ms = now_ms() - watch_t0;
    }
    if (w->count++ == 0) say_seen_wall(w, stream_for_new_wall(), 0);
}

/* Up to size bytes of the program's memory at addr (process pid), via /proc/PID/mem:
 * what it held when the call began, for display only (another thread may change it).
 * The bytes read, or -1. */
static ssize_t read_memory(pid_t pid, unsigned long long addr, void *buf, size_t size) {
    char path[32];
    snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = pread(fd, buf, size, (off_t)addr);
    close(fd);
    return n;
}

/* "tcp", "udp", ... for the program's socket fd, from the socket's own xattr ("" if
 * it cannot be read). */
static void socket_protocol(pid_t pid, unsigned long long fd, char *out, size_t size) {
    char path[48], name[32];
    snprintf(path, sizeof path, "/proc/%d/fd/%llu", (int)pid, fd);
    ssize_t n = getxattr(path, "system.sockprotoname", name, sizeof name - 1);
    name[n > 0 ? n : 0] = 0;
    char *v6 = strstr(name, "v6");
    if (v6) *v6 = 0;
    size_t i = 0;
    for (; name[i] && i + 1 < size; i++) out[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    out[i] = 0;
}

/* A connect, sendto or sendmsg while the network is off: a wall when its address is off
 * this container (the kernel refuses it: the errno is predicted, and the call goes on to
 * get it). Loopback, Unix sockets and the rest pass unremarked. */
static void watch_network(const struct seccomp_notif *req) {
    unsigned long long addr, len;
    const char *call;
    if (req->data.nr == SYS_connect) {
        call = "connect";
        addr = req->data.args[1];
        len = req->data.args[2];
    } else if (req->data.nr == SYS_sendto) {
        call = "sendto";
        addr = req->data.args[4];
        len = req->data.args[5];
    } else {
        call = "sendmsg";
        struct msghdr msg;
        if (read_memory(req->pid, req->data.args[1], &msg, sizeof msg) != (ssize_t)sizeof msg) return;
        addr = (unsigned long long)(uintptr_t)msg.msg_name;
        len = msg.msg_namelen;
    }
    struct sockaddr_storage sa;
    memset(&sa, 0, sizeof sa);
    if (!addr || len < sizeof(sa_family_t)) return;
    if (len > sizeof sa) len = sizeof sa;
    if (read_memory(req->pid, addr, &sa, len) < (ssize_t)sizeof(sa_family_t)) return;
    /* Read while the caller waited: still that call, or the bytes mean nothing. */
    if (ioctl(watch_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) return;
    char host[INET6_ADDRSTRLEN], target[sizeof seen[0].target], proto[16];
    const char *err = "ENETUNREACH";
    if (sa.ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&sa;
        uint32_t ip = ntohl(in->sin_addr.s_addr);
        if ((ip >> 24) == 127 || ip == INADDR_ANY) return;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        socket_protocol(req->pid, req->data.args[0], proto, sizeof proto);
        snprintf(target, sizeof target, "%s:%u%s%s", host, ntohs(in->sin_port), *proto ? "/" : "", proto);
    } else if (sa.ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&sa;
        const struct in6_addr *a = &in6->sin6_addr;
        static const unsigned char zero[4];
        if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a)) return;
        if (IN6_IS_ADDR_V4MAPPED(a) && (a->s6_addr[12] == 127 || !memcmp(a->s6_addr + 12, zero, 4))) return;
        /* With no IPv6 address at all (Docker's default), there is no source to send from. */
        if (!have_ipv6) err = "EADDRNOTAVAIL";
        inet_ntop(AF_INET6, a, host, sizeof host);
        socket_protocol(req->pid, req->data.args[0], proto, sizeof proto);
        snprintf(target, sizeof target, "[%s]:%u%s%s", host, ntohs(in6->sin6_port), *proto ? "/" : "", proto);
    } else {
        return;
    }
    seen_wall("network", call, target, err, 0);
}

/* net=off: 127.0.0.1:53 UDP, where the program's resolver asks (an empty resolv.conf
 * means 127.0.0.1). -1 where port 53 is not ours to bind: look-ups then fail unseen. */
static int open_dns(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(53), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&at, sizeof at) < 0) { close(fd); return -1; }
    return fd;
}

/* The name a DNS query asks for, as dotted text of [A-Za-z0-9_-] (anything else as '?');
 * the query's length up to the end of its first question, or -1 if it is not a query. */
static int query_name(const unsigned char *q, int n, char *name, size_t size) {
    if (n < 12 || (q[2] & 0x80) || !(q[4] | q[5])) return -1;   /* a reply, or no question */
    int at = 12;
    size_t used = 0;
    while (at < n && q[at]) {
        int label = q[at++];
        if (label > 63 || at + label > n) return -1;
        if (used && used + 1 < size) name[used++] = '.';
        for (int i = 0; i < label; i++, at++) {
            char c = (char)q[at];
            int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
            if (used + 1 < size) name[used++] = plain ? c : '?';
        }
    }
    name[used] = 0;
    if (at + 5 > n) return -1;     /* the root label, then type and class */
    return at + 5;
}

/* The program's name look-ups, each refused with SERVFAIL (which its resolver reports as
 * a temporary failure, as it did with nobody answering) and counted: the wall's target
 * is the name asked for. A bounded number a round, like the watched calls. */
static void answer_dns(void) {
    unsigned char q[512];
    char name[256];
    for (int round = 0; round < 256; round++) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof from;
        ssize_t n = recvfrom(dns_fd, q, sizeof q, 0, (struct sockaddr *)&from, &from_len);
        if (n < 0) return;
        int end = query_name(q, (int)n, name, sizeof name);
        if (end < 0) continue;
        q[2] = (unsigned char)(0x80 | (q[2] & 0x79));   /* a response; opcode and RD kept */
        q[3] = 2;                                       /* SERVFAIL, no recursion offered */
        q[4] = 0; q[5] = 1;                             /* the one question, echoed */
        memset(q + 6, 0, 6);                            /* no answers, no authority, no extras */
        seen_wall("network", "dns", name[0] ? name : ".", "EAI_AGAIN", 1);   /* told before it is answered */
        (void)sendto(dns_fd, q, (size_t)end, 0, (struct sockaddr *)&from, from_len);
    }
}


static const struct fs_call *fs_call_of(long nr) {
    for (size_t i = 0; i < N_FS_CALLS; i++)
        if (FS_CALLS[i].nr == nr) return &FS_CALLS[i];
    return NULL;
}

/* Whether the sandbox's user may write to a file of this owner and mode. */
static int may_write(const struct stat *st) {
    if (st->st_uid == geteuid()) return (st->st_mode & S_IWUSR) != 0;
    if (st->st_gid == getegid()) return (st->st_mode & S_IWGRP) != 0;
    return (st->st_mode & S_IWOTH) != 0;
}

static int read_only_at(const char *path) {
    struct statvfs vfs;
    return statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
}

/* The errno a change of `path` gets where the sandbox refuses it, or NULL: it succeeds,
 * or fails for a reason of the program's own. In the kernel's order of checks. */
static const char *predict_fs(enum fs_change change, const char *path, long long flags) {
    char parent[2 * PATH_MAX + 2];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (slash == parent) slash[1] = 0; else if (slash) *slash = 0;
    struct stat st, dir;
    int exists = (change == FS_OPEN ? stat(path, &st) : lstat(path, &st)) == 0;
    int has_parent = stat(parent, &dir) == 0;
    switch (change) {
    case FS_OPEN:
        if (!exists) {
            if (!(flags & O_CREAT) || !has_parent) return NULL;                 /* ENOENT */
            if (read_only_at(parent)) return "EROFS";
            return may_write(&dir) ? NULL : "EACCES";
        }
        if ((flags & O_CREAT) && (flags & O_EXCL)) return NULL;                  /* EEXIST */
        if ((flags & O_ACCMODE) == O_RDONLY && !(flags & O_TRUNC)) return NULL;  /* reads it */
        if (S_ISDIR(st.st_mode) || !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))) return NULL;
        if ((flags & O_TRUNC) && read_only_at(path)) return "EROFS";            /* asked first */
        if (!may_write(&st)) return "EACCES";
        return read_only_at(path) ? "EROFS" : NULL;
    case FS_CREATE:
        if (!has_parent || exists) return NULL;                                  /* ENOENT, EEXIST */
        if (read_only_at(parent)) return "EROFS";
        return may_write(&dir) ? NULL : "EACCES";
    case FS_REMOVE:
        if (has_parent && read_only_at(parent)) return "EROFS";                 /* before ENOENT */
        if (!exists || !has_parent) return NULL;
        if (!may_write(&dir)) return "EACCES";
        if ((dir.st_mode & S_ISVTX) && st.st_uid != geteuid() && dir.st_uid != geteuid()) return "EPERM";
        return NULL;
    case FS_MODE:
    case FS_OWNER:
    case FS_TIMES:
        if (!exists) return NULL;
        if (read_only_at(path)) return "EROFS";
        if (change == FS_TIMES) return st.st_uid == geteuid() || may_write(&st) ? NULL : "EACCES";
        return st.st_uid == geteuid() ? NULL : "EPERM";
    case FS_SIZE:
        if (!exists || S_ISDIR(st.st_mode)) return NULL;
        if (read_only_at(path)) return "EROFS";
        return may_write(&st) ? NULL : "EACCES";
    }
    return NULL;
}

/* A NUL-terminated string of the program's at addr, into buf: its length, or -1. Read in
 * pieces that stop at a page's end, as a string may end just before an unmapped page. */
static ssize_t read_string(pid_t pid, unsigned long long addr, char *buf, size_t size) {
    size_t used = 0;
    while (used + 1 < size) {
        size_t page_left = 4096 - ((addr + used) & 4095), want = size - 1 - used;
        if (want > page_left) want = page_left;
        ssize_t n = read_memory(pid, addr + used, buf + used, want);
        if (n <= 0) return -1;
        char *end = memchr(buf + used, 0, (size_t)n);
        if (end) return end - buf;
        used += (size_t)n;
    }
    return -1;
}

/* A watched change of the filesystem: a wall if the sandbox refuses it. */
static void watch_filesystem(const struct seccomp_notif *req, const struct fs_call *call) {
    char path[PATH_MAX], base[PATH_MAX], whole[2 * PATH_MAX + 2];
    if (!req->data.args[call->path]) return;                                     /* by fd: no path */
    if (read_string(req->pid, req->data.args[call->path], path, sizeof path) <= 0) return;
    long long flags = 0;
    if (call->flags >= 0) {
        flags = (long long)req->data.args[call->flags];
    } else if (call->flags == -2) {
        unsigned long long how = 0;        /* struct open_how starts with its u64 flags */
        if (read_memory(req->pid, req->data.args[2], &how, sizeof how) != (ssize_t)sizeof how) return;
        flags = (long long)how;
    } else if (call->change == FS_OPEN) {
        flags = O_CREAT | O_WRONLY | O_TRUNC;                                    /* creat */
    }
    if (call->change == FS_OPEN && !(flags & WRITE_FLAGS)) return;
    if (path[0] == '/') {
        snprintf(whole, sizeof whole, "%s", path);
    } else {
        char link[64];
        int dirfd = call->dirfd >= 0 ? (int)req->data.args[call->dirfd] : AT_FDCWD;
        if (dirfd == AT_FDCWD) snprintf(link, sizeof link, "/proc/%d/cwd", (int)req->pid);
        else snprintf(link, sizeof link, "/proc/%d/fd/%d", (int)req->pid, dirfd);
        ssize_t n = readlink(link, base, sizeof base - 1);
        if (n <= 0) return;
        base[n] = 0;
        snprintf(whole, sizeof whole, "%s/%s", strcmp(base, "/") == 0 ? "" : base, path);
    }
    if (ioctl(watch_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0) return;
    const char *err = predict_fs(call->change, whole, flags);
    if (!err) return;
    /* As the program named it, as one word for the record: spaces and controls as '?'. */
    char target[sizeof seen[0].target];
    size_t i = 0;
    for (; path[i] && i + 1 < sizeof target; i++) target[i] = (unsigned char)path[i] <= ' ' || path[i] == 127 ? '?' : path[i];
    target[i] = 0;
    seen_wall("filesystem", call->name, target, err, 0);
}

/* A clone or socket the filter handed over for its arguments (refused already): a wall
 * named by them, read from registers (exact, not the program's memory). */
static void refused_by_arguments(const struct seccomp_notif *req) {
    char target[160] = "";
    if (req->data.nr == SYS_clone) {
        static const struct { unsigned long long flag; const char *name; } flags[] = {
            {CLONE_NEWNS, "CLONE_NEWNS"}, {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"}, {CLONE_NEWUTS, "CLONE_NEWUTS"},
            {CLONE_NEWIPC, "CLONE_NEWIPC"}, {CLONE_NEWUSER, "CLONE_NEWUSER"}, {CLONE_NEWPID, "CLONE_NEWPID"},
            {CLONE_NEWNET, "CLONE_NEWNET"}};
        for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
            if (req->data.args[0] & flags[i].flag)
                snprintf(target + strlen(target), sizeof target - strlen(target), "%s%s", *target ? "|" : "",
                         flags[i].name);
        seen_wall("syscall", "clone", target, "EPERM", 1);
    } else {
        unsigned long long family = req->data.args[0];
        snprintf(target, sizeof target, "%s", family == AF_PACKET ? "AF_PACKET"
                 : family == AF_INET ? "SOCK_RAW/AF_INET" : family == AF_INET6 ? "SOCK_RAW/AF_INET6" : "SOCK_RAW");
        seen_wall("syscall", "socket", target, "EPERM", 1);
    }
}

/* The watched calls waiting: each refused (EPERM) and counted. A few hundred a round at
 * most, so a flood of them cannot starve the output, the samples or the deadline. */
static void answer_watched(void) {
    static struct seccomp_notif req;
    static struct seccomp_notif_resp resp;
    for (int round = 0; round < 256; round++) {
        struct pollfd ready = {watch_fd, POLLIN, 0};
        if (poll(&ready, 1, 0) <= 0 || !(ready.revents & POLLIN)) {
            if (ready.revents & (POLLHUP | POLLERR)) { close(watch_fd); watch_fd = -1; }
            return;
        }
        memset(&req, 0, sizeof req);
        if (ioctl(watch_fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) continue;  /* its caller died meanwhile */
        memset(&resp, 0, sizeof resp);
        resp.id = req.id;
        const struct fs_call *fs = opt.watch_files ? fs_call_of(req.data.nr) : NULL;
        int network = opt.net_off && (req.data.nr == SYS_connect || req.data.nr == SYS_sendto
                                      || req.data.nr == SYS_sendmsg);
        if (fs || network) {
            /* Only seen: it goes on, and the kernel gives it its own answer. */
            if (fs) watch_filesystem(&req, fs); else watch_network(&req);
            resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
            (void)ioctl(watch_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
            continue;
        }
        resp.error = -EPERM;
        (void)ioctl(watch_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
        if (req.data.nr == SYS_clone || req.data.nr == SYS_socket) {
            refused_by_arguments(&req);
            continue;
        }
        for (int i = 0; i < n_watched; i++) {
            struct watched *w = &watched[i];
            if (w->nr != req.data.nr) continue;
            if (w->count++ == 0) {
                w->first_ms = now_ms() - watch_t0;
                w->said = w->count;     /* the first hit is told at once, never dropped */
                record(stream_for_new_wall(), 0, "W kind=syscall call=%s errno=EPERM count=1 t_ms=%lld", w->name, w->first_ms);
            }
        }
    }
}

/* One round: waits up to timeout_ms for the program's output, room in the container's
 * pipes, or (while the program runs) a SIGCHLD, and moves what it can. Once it is
 * dead, what it left is read at once, not gathered. */
static void pump(long long timeout_ms, int running) {
    struct pollfd fds[8];
    struct stream *of[8] = {0};
    int n = 0;
    long long t = now_ms();
    if (running) fds[n++] = (struct pollfd){sig_fd, POLLIN, 0};
    if (running && watch_fd >= 0) fds[n++] = (struct pollfd){watch_fd, POLLIN, 0};
    if (running && dns_fd >= 0) fds[n++] = (struct pollfd){dns_fd, POLLIN, 0};
    for (int i = 0; i < 2; i++) {
        struct stream *s = &streams[i];
        int room = output_limited || s->out < 0 || s->len < BUF_SIZE - RECORD_ROOM;
        if (s->in >= 0 && room && running && s->gather_until > t) {
            if (timeout_ms > s->gather_until - t) timeout_ms = s->gather_until - t;
        } else if (s->in >= 0 && room) {
            of[n] = s;
            fds[n++] = (struct pollfd){s->in, POLLIN, 0};
        }
        if (s->out >= 0 && s->len > 0) { of[n] = s; fds[n++] = (struct pollfd){s->out, POLLOUT, 0}; }
    }
    if (poll(fds, n, poll_ms(timeout_ms)) <= 0) return;
    for (int i = 0; i < n; i++) {
        if (!fds[i].revents) continue;
        if (fds[i].fd == watch_fd && watch_fd >= 0) {
            answer_watched();
        } else if (fds[i].fd == dns_fd && dns_fd >= 0) {
            answer_dns();
        } else if (!of[i]) { /* SIGCHLD: the caller reaps; only clear what is pending */
            struct signalfd_siginfo info[8];
            while (read(sig_fd, info, sizeof info) > 0) {}
        } else if (fds[i].events & POLLIN) {
            fill(of[i]);
        }
    }
    /* Written after reading, so what just came leaves at once when there is room. */
    flush(out_stream);
    flush(err_stream);
}

/* When to stop waiting for the reader: not before the deadline (the program may have
 * ended early while the reader lags), then once a stream with something to say has
 * got nothing out for STALL_MS (nothing more can be complete then), or GRACE_MS after
 * the deadline. A stream with nothing pending is not stalled: the reader of one
 * stream may well go on taking the other's samples while it stalls. */
static long long give_up_at(long long deadline) {
    long long at = deadline + GRACE_MS;
    for (int i = 0; i < 2; i++) {
        struct stream *s = &streams[i];
        if (s->out >= 0 && s->len > 0 && s->moving + STALL_MS < at) at = s->moving + STALL_MS;
    }
    return at < deadline ? deadline : at;
}

/* Every record and byte out, or the reader given up on. 0 when all went. */
static int flush_all(long long deadline) {
    for (;;) {
        flush(out_stream);
        flush(err_stream);
        if (out_stream->len == 0 && err_stream->len == 0) return 0;
        long long t = now_ms(), at = give_up_at(deadline);
        if (t >= at) return -1;
        pump(at - t, 0);
    }
}

/* --- start-up ---------------------------------------------------------------------- */

/* Reads "NONCE SIZE\n" byte by byte, so not one byte of the program's input is taken.
 * The size; -1 for a malformed header; -2 if none came: end of file, or idle_ms ran
 * out (a spare nobody claimed). */
static long long read_header(void) {
    long long until = opt.idle_ms > 0 ? now_ms() + opt.idle_ms : -1;
    char line[128];
    size_t i = 0;
    for (;;) {
        if (until >= 0) {
            struct pollfd p = {0, POLLIN, 0};
            long long left = until - now_ms();
            if (left <= 0) return -2;
            int r = poll(&p, 1, poll_ms(left));
            if (r < 0 && errno == EINTR) continue;
            if (r == 0) return -2;
        }
        char c;
        ssize_t n = read(0, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) return -2;
        if (c == '\n') break;
        if (i == sizeof line - 1) return -1;
        line[i++] = c;
    }
    line[i] = 0;
    char *space = strchr(line, ' ');
    if (!space || space == line || space - line >= (long)sizeof nonce) return -1;
    /* The nonce goes into every record: a space or a control byte would break them. */
    for (char *p = line; p < space; p++)
        if (*p <= ' ' || *p > '~') return -1;
    char *digits = space + 1, *end;
    if (*digits < '0' || *digits > '9') return -1;
    errno = 0;
    long long size = strtoll(digits, &end, 10);
    if (errno || *end || size > MAX_VALUE) return -1;
    memcpy(nonce, line, space - line);
    nonce[space - line] = 0;
    return size;
}

/* The source into a sealed memfd on fd 3, which every process of the program inherits. */
static int load_source(long long size) {
    if (opt.source) {
        char target[64];
        ssize_t len = readlink(opt.source, target, sizeof target - 1);
        if (len < 0 || (target[len] = 0, strcmp(target, "/proc/self/fd/3") != 0)) {
            dprintf(2, "tui-sandbox: %s in this image is not a link to /proc/self/fd/3; "
                       "images for tui-sandbox need one for their language's source file\n",
                    opt.source);
            return -1;
        }
    }
    int fd = memfd_create("source", MFD_ALLOW_SEALING);
    if (fd < 0) { dprintf(2, "tui-sandbox: memfd_create: %s\n", strerror(errno)); return -1; }
    char buf[65536];
    while (size > 0) {
        ssize_t n = read(0, buf, size < (long long)sizeof buf ? size : (long long)sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { dprintf(2, "tui-sandbox: the source ended early\n"); return -1; }
        for (ssize_t off = 0; off < n; ) {
            ssize_t w = write(fd, buf + off, n - off);
            if (w < 0 && errno == EINTR) continue;
            if (w < 0) { dprintf(2, "tui-sandbox: storing the source: %s\n", strerror(errno)); return -1; }
            off += w;
        }
        size -= n;
    }
    fchmod(fd, 0444);
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
        dprintf(2, "tui-sandbox: sealing the source: %s\n", strerror(errno));
        return -1;
    }
    if (fd != 3) {
        if (dup2(fd, 3) < 0) return -1;
        close(fd);
    }
    return 0;
}

/* A second open file description of the container's fd, non-blocking: setting
 * O_NONBLOCK on the fd itself would change every holder of that description (with a
 * terminal, fds 0, 1 and 2 are one: the program's stdin would turn non-blocking). */
static int open_nonblocking(int fd) {
    char path[32];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int o = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (o < 0) { dprintf(2, "tui-sandbox: reopening fd %d: %s\n", fd, strerror(errno)); return -1; }
    /* Above fd 3, which the source's memfd takes later. */
    int high = fcntl(o, F_DUPFD_CLOEXEC, 10);
    close(o);
    if (high < 0) dprintf(2, "tui-sandbox: moving fd %d: %s\n", fd, strerror(errno));
    return high;
}

/* --- a phase ----------------------------------------------------------------------- */

/* Out of the program's reach, on every runtime. The init starts as root with CAP_SETPCAP,
 * CAP_SETUID and CAP_SETGID only, empties the bounding set, and keeps real and saved uid
 * init_uid but the program's uid as its effective one:
 *  - the program (every uid = uid) cannot signal it: kill needs the sender's real or
 *    effective uid to be the target's real or saved one, and both are init_uid. runc's
 *    kernel drops a SIGKILL to a namespace's init anyway; gVisor delivers it, and the
 *    whole sandbox, report and all, went with it;
 *  - nor trace it, nor open its /proc/1/mem or fds: that takes all three uids equal;
 *  - while the init signals and reads the program as its own (the effective uid is the
 *    program's): no capability stays with it, once the last uid left 0 the kernel cleared
 *    them. Its children become the program's uid without privilege (it is their euid). */
static int leave_root(void) {
    for (int cap = 0; cap <= 63; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
            dprintf(2, "tui-sandbox: the init must start as root with CAP_SETPCAP, CAP_SETUID and "
                       "CAP_SETGID to put itself out of the program's reach (dropping capability "
                       "%d: %s)\n", cap, strerror(errno));
            return -1;
        }
    gid_t gid = (gid_t)opt.uid;
    if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
        setresuid((uid_t)opt.init_uid, (uid_t)opt.uid, (uid_t)opt.init_uid) < 0) {
        dprintf(2, "tui-sandbox: the init must start as root with CAP_SETUID and CAP_SETGID "
                   "to put itself out of the program's reach: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* The program's side of leave_root: every uid its own (it may: it is the euid). */
static void become_program(void) {
    if (!opt.uid) return;
    if (setresuid((uid_t)opt.uid, (uid_t)opt.uid, (uid_t)opt.uid) < 0) {
        dprintf(2, "tui-sandbox: cannot take the program's uid %lld: %s\n", opt.uid, strerror(errno));
        _exit(127);
    }
}

static void set_limit(int resource, const char *name, long long value) {
    struct rlimit rl;
    if (getrlimit(resource, &rl) < 0) rl.rlim_max = RLIM_INFINITY;
    /* Without privilege a hard limit only goes down; one already lower is stricter. */
    rlim_t v = value;
    if (rl.rlim_max != RLIM_INFINITY && v > rl.rlim_max) v = rl.rlim_max;
    rl.rlim_cur = rl.rlim_max = v;
    if (setrlimit(resource, &rl) == 0) return;
    int err = errno;
    /* gVisor refuses some limits outright (msgqueue: EPERM even to lower it); one the
     * runtime has set as low already (Docker's --ulimit) is as good. */
    if (getrlimit(resource, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max <= v &&
        rl.rlim_cur <= v)
        return;
    dprintf(2, "tui-sandbox: cannot set %s to %lld: %s\n", name, value, strerror(err));
    _exit(127); /* never run the program without the limits it was promised */
}

static void exec_child(char **argv, int out_fd, int err_fd, int watch_sock) {
    /* The program writes into the init's pipes; the container's own fds 1 and 2 are
     * replaced, so nothing the program starts can write past the relay (or its cap). */
    if (dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(127);
    become_program();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* SIGPIPE and SIGXFSZ above all: ignored, a file-size cap becomes silent short writes. */
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    /* The kernel's OOM killer must pick the program, never this init. A non-dumpable
     * process's /proc files belong to root, so oom_score_adj would not open: dumpable
     * again, which is safe here as no other process of the program is alive yet, and
     * exec replaces this memory (and the nonce in it) at once. */
    prctl(PR_SET_DUMPABLE, 1);
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) { (void)!write(fd, "1000", 4); close(fd); }
    if (opt.fsize > 0) set_limit(RLIMIT_FSIZE, "fsize", opt.fsize);
    if (opt.nofile > 0) set_limit(RLIMIT_NOFILE, "nofile", opt.nofile);
    if (opt.nproc > 0) set_limit(RLIMIT_NPROC, "nproc", opt.nproc);
    set_limit(RLIMIT_MSGQUEUE, "msgqueue", 0); /* /dev/mqueue is writable even on a read-only root */
    set_limit(RLIMIT_CORE, "core", 0);
    if (n_watched > 0 || opt.net_off || opt.watch_files) install_watch(watch_sock);
    execvp(argv[0], argv);
    dprintf(2, "tui-sandbox: cannot start %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Whether the epoll instance EPFD of process PID watches fd 0: Node (libuv) waits for
 * its input in epoll, not in read. /proc/PID/fdinfo/EPFD lists one "tfd: N" per fd. */
static int epoll_watches_stdin(pid_t pid, long epfd) {
    char path[64], text[16384];
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%ld", (int)pid, epfd);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    size_t used = 0;
    ssize_t n;
    while (used < sizeof text - 1 && (n = read(fd, text + used, sizeof text - 1 - used)) > 0)
        used += (size_t)n;
    close(fd);
    text[used] = 0;
    for (char *line = strstr(text, "tfd:"); line; line = strstr(line + 4, "tfd:"))
        if (strtol(line + 4, NULL, 10) == 0) return 1;
    return 0;
}

static int is_epoll_wait(long nr) {
#ifdef SYS_epoll_wait
    if (nr == SYS_epoll_wait) return 1;
#endif
#ifdef SYS_epoll_pwait2
    if (nr == SYS_epoll_pwait2) return 1;
#endif
    return nr == SYS_epoll_pwait;
}

/* Whether one of the program's threads is blocked reading its standard input: a learner
 * whose program sits in input() should be told it waits for them, not that it hangs.
 * Read from /proc/PID/task/TID/syscall (the call a thread is blocked in, then its
 * arguments): read(0, ...), or an epoll wait on a set that holds fd 0 (Node). 1 yes,
 * 0 no, -1 cannot tell (gVisor, or not permitted). */
static int reading_stdin(pid_t pid) {
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    DIR *tasks = opendir(dir);
    if (!tasks) return -1;
    int answer = -1;
    struct dirent *task;
    while ((task = readdir(tasks)) != NULL) {
        if (task->d_name[0] == '.') continue;
        char path[352], text[256];   /* room for dir and the longest d_name */
        snprintf(path, sizeof path, "%s/%s/syscall", dir, task->d_name);
        if (read_text(path, text, sizeof text) < 0) continue;
        long nr = strtol(text, NULL, 10);
        char *arg = strchr(text, ' ');
        if (text[0] == 'r' || !arg) { if (answer < 0) answer = 0; continue; }  /* "running" */
        answer = 0;
        if (nr == SYS_read && strtoull(arg + 1, NULL, 16) == 0) { answer = 1; break; }
        if (is_epoll_wait(nr) && epoll_watches_stdin(pid, (long)strtoull(arg + 1, NULL, 16))) {
            answer = 1;
            break;
        }
    }
    closedir(tasks);
    return answer;
}

static void emit_sample(long long t0, pid_t pid) {
    struct cgroup_sample s = {-1, -1, -1, -1, -1, -1, -1};
    sample_cgroup(&s);
    record(err_stream, 1, "S t_ms=%lld cpu_ns=%lld memory=%lld pids=%lld stdin_wait=%d throttled_ns=%lld "
                          "pids_refused=%lld",
           now_ms() - t0, s.cpu_ns, s.memory, s.pids, pid > 0 ? reading_stdin(pid) : -1, s.throttled_ns,
           s.pids_refused);
}

/* Kills whatever the program left behind (background children, a fork bomb) and reaps
 * it all; the program's own status into *status if it was still there. */
static void kill_all(pid_t pid, int *status, struct rusage *usage) {
    for (;;) {
        kill(-1, SIGKILL); /* again each round: nothing started meanwhile survives */
        int st;
        struct rusage ru;
        pid_t w = wait4(-1, &st, 0, &ru);
        if (w > 0 && w == pid) { *status = st; *usage = ru; }
        if (w < 0 && errno != EINTR) break;
    }
}

/* Runs one phase (compile or run) to its end, its output drained; 0, or -1 if the
 * reader was given up on (nothing more can be said then). */
static int run_phase(char **argv, long long timeout_ms, struct phase *r) {
    *r = (struct phase){0};
    int out_pipe[2], err_pipe[2];
    if (pipe2(out_pipe, O_CLOEXEC) < 0) out_pipe[0] = -1;
    if (out_pipe[0] < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
        say("tui-sandbox: pipe failed: %s\n", strerror(errno));
        if (out_pipe[0] >= 0) { close(out_pipe[0]); close(out_pipe[1]); }
        r->status = 127 << 8;
        r->deadline = now_ms();
        return 0;
    }
    int watch_pair[2] = {-1, -1};
    if ((n_watched > 0 || opt.net_off || opt.watch_files) && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, watch_pair) < 0) {
        say("tui-sandbox: socketpair failed: %s\n", strerror(errno));
        r->status = 127 << 8;
        r->deadline = now_ms();
        return 0;
    }
    long long t0 = now_ms();
    r->deadline = t0 + timeout_ms;
    pid_t pid = fork();
    if (pid == 0) {
        if (watch_pair[0] >= 0) close(watch_pair[0]);
        exec_child(argv, out_pipe[1], err_pipe[1], watch_pair[1]);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (watch_pair[0] >= 0) {
        close(watch_pair[1]);
        /* Sent before the program starts, or its child exits having said why. */
        watch_fd = pid > 0 ? receive_watch(watch_pair[0]) : -1;
        /* The program and this init hand each watched call back and forth: waking the
         * other on the same CPU cuts the round trip (44 to 7 us here). Linux 6.6 and
         * later; older kernels refuse the flag, and it is only faster. */
        if (watch_fd >= 0) (void)ioctl(watch_fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
        watch_t0 = t0;
        close(watch_pair[0]);
    }
    fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);
    out_stream->in = out_pipe[0];
    err_stream->in = err_pipe[0];
    if (pid < 0) {
        say("tui-sandbox: fork failed: %s\n", strerror(errno));
        r->status = 127 << 8;
    }

    long long next_sample = t0 + opt.interval_ms;
    int exited = pid < 0, killed = 0;
    if (pid > 0) emit_sample(t0, pid);
    for (;;) {
        long long t;
        if (!killed) {
            int st;
            pid_t w;
            struct rusage ru;
            while ((w = wait4(-1, &st, WNOHANG, &ru)) > 0)
                if (w == pid) { r->status = st; r->usage = ru; exited = 1; }
            t = now_ms();
            if (!exited && !output_limited && t >= r->deadline) r->timed_out = 1;
            if (exited || r->timed_out || output_limited) {
                r->elapsed_ms = t - t0;
                kill_all(pid, &r->status, &r->usage);
                killed = 1;
            }
        }
        if (killed && out_stream->in < 0 && err_stream->in < 0) break;
        t = now_ms();
        long long wake;
        if (killed) {
            /* Draining what the dead left in their pipes, as fast as the reader takes it. */
            wake = give_up_at(r->deadline);
            if (t >= wake) return -1;
        } else {
            if (t >= next_sample) {
                emit_sample(t0, exited ? 0 : pid);
                say_walls(0);
                while (next_sample <= t) next_sample += opt.interval_ms;
            }
            wake = r->deadline < next_sample ? r->deadline : next_sample;
        }
        pump(wake - t, !killed);
    }
    r->output_limited = output_limited;
    if (watch_fd >= 0) { close(watch_fd); watch_fd = -1; }
    return 0;
}

static void end_record(const char *phase, const struct phase *r) {
    struct cgroup_sample s = {-1, -1, -1, -1, -1, -1, -1};
    sample_cgroup(&s);
    say_walls(1);
    int status = r->status;
    const struct rusage *u = &r->usage;
    long long rusage_cpu_ns = (u->ru_utime.tv_sec + u->ru_stime.tv_sec) * 1000000000LL
                              + (u->ru_utime.tv_usec + u->ru_stime.tv_usec) * 1000LL;
    record(err_stream, 0, "E phase=%s exited=%d code=%d signal=%d timed_out=%d "
                          "output_limited=%d elapsed_ms=%lld cpu_ns=%lld memory=%lld "
                          "peak=%lld oom_kills=%lld maxrss_kb=%ld rusage_cpu_ns=%lld throttled_ns=%lld "
                          "pids_refused=%lld calls_watched=%d net_watched=%d files_watched=%d",
           phase, WIFEXITED(status) ? 1 : 0, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
           WIFSIGNALED(status) ? WTERMSIG(status) : 0, r->timed_out, r->output_limited,
           r->elapsed_ms, s.cpu_ns, s.memory, s.peak, s.oom_kills, u->ru_maxrss, rusage_cpu_ns,
           s.throttled_ns, s.pids_refused, n_watched, opt.net_off, opt.watch_files);
}

static int exit_code_for(const struct phase *r) {
    if (r->timed_out) return 124;
    if (WIFEXITED(r->status)) return WEXITSTATUS(r->status);
    if (WIFSIGNALED(r->status)) return 128 + WTERMSIG(r->status);
    return 125;
}

static int finish(const struct phase *r) {
    record(out_stream, 0, "D");
    record(err_stream, 0, "D");
    flush_all(r->deadline);
    return exit_code_for(r);
}

/* --- the command line ---------------------------------------------------------------- */

#define USAGE "usage: init timeout_ms=N [compile_timeout_ms=N] [interval_ms=N] [source=PATH] [watch=CALL,...] " \
              "[idle_ms=N] [output_bytes=N] [fsize=N] [nofile=N] [nproc=N] [uid=N init_uid=N] -- NCOMPILE " \
              "[compile argv...] run argv..."

static int bad_usage(const char *what, const char *arg) {
    dprintf(2, "sandbox-init: %s%s%s (" USAGE ")\n", what, arg ? ": " : "", arg ? arg : "");
    return 125;
}

/* A plain decimal number: no sign, no spaces, nothing after it. */
static int parse_number(const char *s, long long *out) {
    if (*s < '0' || *s > '9') return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v > MAX_VALUE) return -1;
    *out = v;
    return 0;
}

/* Fills opt; the index of NCOMPILE, or -1 after saying what is wrong. */
static int parse_options(int argc, char **argv) {
    static const struct { const char *name; long long *value; } keys[] = {
        {"timeout_ms", &opt.timeout_ms}, {"compile_timeout_ms", &opt.compile_timeout_ms},
        {"interval_ms", &opt.interval_ms}, {"idle_ms", &opt.idle_ms},
        {"output_bytes", &opt.output_bytes}, {"fsize", &opt.fsize},
        {"nofile", &opt.nofile}, {"nproc", &opt.nproc},
        {"uid", &opt.uid}, {"init_uid", &opt.init_uid},
    };
    int seen[sizeof keys / sizeof keys[0] + 4] = {0};
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i]) return bad_usage("not KEY=VALUE", argv[i]), -1;
        size_t klen = eq - argv[i];
        int k = -1;
        if (klen == 6 && strncmp(argv[i], "source", 6) == 0) {
            k = sizeof keys / sizeof keys[0];
            if (!eq[1]) return bad_usage("empty source", argv[i]), -1;
            opt.source = eq + 1;
        } else if (klen == 5 && strncmp(argv[i], "watch", 5) == 0) {
            k = sizeof keys / sizeof keys[0] + 1;
            if (opt.watch || parse_watch(eq + 1) < 0) return bad_usage("a call this init cannot watch", argv[i]), -1;
            opt.watch = eq + 1;
        } else if (klen == 3 && strncmp(argv[i], "net", 3) == 0) {
            k = sizeof keys / sizeof keys[0] + 2;
            if (strcmp(eq + 1, "off") != 0) return bad_usage("net= takes only off", argv[i]), -1;
            opt.net_off = 1;
        } else if (klen == 5 && strncmp(argv[i], "files", 5) == 0) {
            k = sizeof keys / sizeof keys[0] + 3;
            if (strcmp(eq + 1, "watch") != 0) return bad_usage("files= takes only watch", argv[i]), -1;
            opt.watch_files = 1;
        } else {
            for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++)
                if (strlen(keys[j].name) == klen && strncmp(argv[i], keys[j].name, klen) == 0) k = j;
            if (k < 0) return bad_usage("unknown key", argv[i]), -1;
            if (parse_number(eq + 1, keys[k].value) < 0)
                return bad_usage("not a number", argv[i]), -1;
        }
        if (seen[k]++) return bad_usage("given twice", argv[i]), -1;
    }
    if (i >= argc) return bad_usage("no --", NULL), -1;
    if (!seen[0] || opt.timeout_ms < 1) return bad_usage("timeout_ms >= 1 is required", NULL), -1;
    if (!seen[1]) opt.compile_timeout_ms = opt.timeout_ms;
    if (opt.compile_timeout_ms < 1 || opt.interval_ms < 1)
        return bad_usage("compile_timeout_ms and interval_ms must be >= 1", NULL), -1;
    if (!opt.uid != !opt.init_uid || (opt.uid && opt.uid == opt.init_uid) || opt.uid > INT_MAX || opt.init_uid > INT_MAX)
        return bad_usage("uid and init_uid go together, each >= 1 and different", NULL), -1;
    return i + 1;
}

int main(int argc, char **argv) {
    int at = parse_options(argc, argv);
    if (at < 0) return 125;
    long long ncompile;
    if (at >= argc || parse_number(argv[at], &ncompile) < 0)
        return bad_usage("NCOMPILE must follow --", NULL);
    if (ncompile >= argc - at - 1) return bad_usage("no run command", NULL);
    char **compile_argv = argv + at + 1, **run_argv = compile_argv + ncompile;
    /* kill(-1, SIGKILL) below is only safe inside the container's own PID namespace:
     * anywhere else it would kill every process of this user. */
    if (getpid() != 1) {
        dprintf(2, "%s: refusing to run: must be PID 1 of a container\n", argv[0]);
        return 125;
    }
    /* From here on, the container's stdout and stderr are written only through these,
     * opened before leaving root: then /proc/self/fd belongs to root. */
    out_stream->in = err_stream->in = -1;
    if ((out_stream->out = open_nonblocking(1)) < 0 || (err_stream->out = open_nonblocking(2)) < 0)
        return 125;
    if (opt.uid && leave_root() < 0) return 125;
    /* Nobody else of our uid may read this process's memory (and with it the nonce),
     * from before the nonce arrives. */
    prctl(PR_SET_DUMPABLE, 0);
    /* A write to a reader that has gone must fail (EPIPE), never end the init. */
    signal(SIGPIPE, SIG_IGN);

    long long source_size = read_header();
    if (source_size == -2) return 0; /* a spare nobody claimed, or its owner died */
    if (source_size < 0) {
        dprintf(2, "tui-sandbox: stdin must start with a line \"NONCE SIZE\"\n");
        return 125;
    }
    if (load_source(source_size) < 0) return 125;

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    sig_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sig_fd < 0) { dprintf(2, "tui-sandbox: signalfd: %s\n", strerror(errno)); return 125; }
    if (opt.net_off) {
        dns_fd = open_dns();
        char v6[64];
        have_ipv6 = read_text("/proc/net/if_inet6", v6, sizeof v6) > 0;
    }
    struct phase r;
    if (ncompile > 0) {
        char **compile_only = calloc(ncompile + 1, sizeof *compile_only);
        if (!compile_only) return 125;
        memcpy(compile_only, compile_argv, ncompile * sizeof *compile_only);
        if (run_phase(compile_only, opt.compile_timeout_ms, &r) < 0) return exit_code_for(&r);
        end_record("compile", &r);
        if (r.timed_out || r.output_limited || !WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0)
            return finish(&r);
    }
    if (run_phase(run_argv, opt.timeout_ms, &r) < 0) return exit_code_for(&r);
    end_record("run", &r);
    return finish(&r);
}
