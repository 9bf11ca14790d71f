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
 *
 * Usage:  init TIMEOUT_MS INTERVAL_MS COMPILE_TIMEOUT_MS SOURCE_PATH NCOMPILE [compile argv...] run argv...
 *
 * Standard input starts with a line "NONCE SIZE", then SIZE bytes of the program's
 * source; the rest belongs to the program. The source goes into a sealed memfd on
 * fd 3 (no write, shrink or grow, ever), and SOURCE_PATH is a root-owned symlink in
 * the image to /proc/self/fd/3: the program reads its source by its usual name but
 * cannot change it, and no archive needs copying into the container before start
 * (Docker's put_archive costs as much as a fifth of a run). Records go to stderr as
 *     \x1e NONCE KIND key=value ...\n
 * KIND is S (a stats sample) or E (the end of a phase), and last, D (done) on both
 * stdout and stderr: Docker copies the two pipes apart, so D on each says that
 * stream is complete, and the controller need not wait for the container to be torn
 * down. The program cannot forge them: it never sees the nonce, and E and D are
 * written after every process of the program is dead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char nonce[72];
static int sample_fd = 2;

struct cgroup_sample {
    long long memory, peak, cpu_ns, pids, oom_kills;
};

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
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
    } else { /* cgroup v2 */
        usage = read_number("/sys/fs/cgroup/memory.current");
        long long inactive = read_key("/sys/fs/cgroup/memory.stat", "inactive_file");
        s->memory = usage < 0 ? -1 : usage - (inactive > 0 ? inactive : 0);
        s->peak = read_number("/sys/fs/cgroup/memory.peak");
        s->oom_kills = read_key("/sys/fs/cgroup/memory.events", "oom_kill");
        long long usec = read_key("/sys/fs/cgroup/cpu.stat", "usage_usec");
        s->cpu_ns = usec < 0 ? -1 : usec * 1000;
        s->pids = read_number("/sys/fs/cgroup/pids.current");
    }
    if (s->peak >= 0 && s->memory > s->peak) s->peak = s->memory;
}

/* One record in a single write, so it never interleaves with the program's bytes. */
static void record(int fd, int must_arrive, const char *fmt, ...) {
    char buf[512];
    int n = snprintf(buf, sizeof buf, "\x1e%s ", nonce);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof buf - n, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof buf - 1) n = sizeof buf - 2;
    buf[n++] = '\n';
    for (int off = 0; off < n; ) {
        ssize_t w = write(fd, buf + off, n - off);
        if (w > 0) { off += w; continue; }
        if (w < 0 && errno == EINTR) continue;
        if (!must_arrive) return; /* a full pipe: drop the sample, never stall the deadline */
        if (w < 0 && errno == EAGAIN) { usleep(1000); continue; }
        return;
    }
}

static void emit_sample(long long t0) {
    struct cgroup_sample s = {-1, -1, -1, -1, -1};
    sample_cgroup(&s);
    record(sample_fd, 0, "S t_ms=%lld cpu_ns=%lld memory=%lld pids=%lld",
           now_ms() - t0, s.cpu_ns, s.memory, s.pids);
}

/* Reads "NONCE SIZE\n" byte by byte, so not one byte of the program's input is taken. */
static long long read_header(void) {
    char line[128];
    size_t i = 0;
    char c;
    while (i < sizeof line - 1) {
        ssize_t n = read(0, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || c == '\n') break;
        line[i++] = c;
    }
    line[i] = 0;
    char *space = strchr(line, ' ');
    if (!space || space - line >= (long)sizeof nonce) return -1;
    memcpy(nonce, line, space - line);
    nonce[space - line] = 0;
    return atoll(space + 1);
}

/* The source into a sealed memfd on fd 3, which every process of the program inherits. */
static int load_source(const char *path, long long size) {
    char target[64];
    ssize_t len = readlink(path, target, sizeof target - 1);
    if (len < 0 || (target[len] = 0, strcmp(target, "/proc/self/fd/3") != 0)) {
        dprintf(2, "tui-sandbox: %s in this image is not a link to /proc/self/fd/3; "
                   "images for tui-sandbox need one for their language's source file\n", path);
        return -1;
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
            if (w < 0) { if (errno == EINTR) continue; return -1; }
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

static void exec_child(char **argv) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    /* The kernel's OOM killer must pick the program, never this init. */
    int fd = open("/proc/self/oom_score_adj", O_WRONLY);
    if (fd >= 0) { (void)!write(fd, "1000", 4); close(fd); }
    execvp(argv[0], argv);
    dprintf(2, "tui-sandbox: cannot start %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Runs one phase (compile or run) to its end; returns its wait status. */
static int run_phase(char **argv, long long timeout_ms,
                     long long interval_ms, long long *elapsed_ms, int *timed_out) {
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    long long t0 = now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        dprintf(2, "tui-sandbox: fork failed: %s\n", strerror(errno));
        *elapsed_ms = 0;
        *timed_out = 0;
        return 127 << 8;
    }
    if (pid == 0) exec_child(argv);

    long long deadline = t0 + timeout_ms, next_sample = t0 + interval_ms;
    int status = 0, done = 0;
    *timed_out = 0;
    emit_sample(t0);
    for (;;) {
        int st;
        pid_t w;
        while ((w = waitpid(-1, &st, WNOHANG)) > 0)
            if (w == pid) { status = st; done = 1; }
        if (done) break;
        long long t = now_ms();
        if (t >= deadline) { *timed_out = 1; break; }
        if (t >= next_sample) {
            emit_sample(t0);
            while (next_sample <= t) next_sample += interval_ms;
        }
        long long wait_ms = (deadline < next_sample ? deadline : next_sample) - t;
        struct timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000000};
        sigtimedwait(&chld, NULL, &ts);
    }
    *elapsed_ms = now_ms() - t0;
    /* Whatever the program left behind (background children, a fork bomb) goes too. */
    kill(-1, SIGKILL);
    for (;;) {
        int st;
        pid_t w = waitpid(-1, &st, 0);
        if (w == pid) status = st;
        if (w < 0 && errno != EINTR) break;
    }
    return status;
}

static void end_record(const char *phase, int status, long long elapsed_ms, int timed_out) {
    struct cgroup_sample s = {-1, -1, -1, -1, -1};
    sample_cgroup(&s);
    record(2, 1, "E phase=%s exited=%d code=%d signal=%d timed_out=%d elapsed_ms=%lld "
                 "cpu_ns=%lld memory=%lld peak=%lld oom_kills=%lld",
           phase, WIFEXITED(status) ? 1 : 0, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
           WIFSIGNALED(status) ? WTERMSIG(status) : 0, timed_out, elapsed_ms,
           s.cpu_ns, s.memory, s.peak, s.oom_kills);
}

static int exit_code_for(int status, int timed_out) {
    if (timed_out) return 124;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 125;
}

static int finish(int status, int timed_out) {
    record(1, 1, "D");
    record(2, 1, "D");
    return exit_code_for(status, timed_out);
}


int main(int argc, char **argv) {
    if (argc < 7) {
        dprintf(2, "usage: %s TIMEOUT_MS INTERVAL_MS COMPILE_TIMEOUT_MS SOURCE_PATH NCOMPILE "
                   "[compile...] run...\n", argv[0]);
        return 125;
    }
    /* kill(-1, SIGKILL) below is only safe inside the container's own PID namespace:
     * anywhere else it would kill every process of this user. */
    if (getpid() != 1) {
        dprintf(2, "%s: refusing to run: must be PID 1 of a container\n", argv[0]);
        return 125;
    }
    long long timeout_ms = atoll(argv[1]), interval_ms = atoll(argv[2]);
    long long compile_timeout_ms = atoll(argv[3]);
    const char *source_path = argv[4];
    int ncompile = atoi(argv[5]);
    char **compile_argv = argv + 6, **run_argv = argv + 6 + ncompile;
    if (ncompile < 0 || 6 + ncompile >= argc || interval_ms <= 0) return 125;

    long long source_size = read_header();
    if (source_size < 0 || load_source(source_path, source_size) < 0) return 125;
    /* Nobody else of our uid may read this process's memory (and with it the nonce). */
    prctl(PR_SET_DUMPABLE, 0);
    /* A second open file description of stderr, non-blocking for samples only: setting
     * O_NONBLOCK on fd 2 itself would change the program's stderr too. */
    int fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) sample_fd = fd;

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);

    long long elapsed_ms;
    int timed_out, status;
    if (ncompile > 0) {
        char **compile_only = calloc(ncompile + 1, sizeof *compile_only);
        if (!compile_only) return 125;
        memcpy(compile_only, compile_argv, ncompile * sizeof *compile_only);
        status = run_phase(compile_only, compile_timeout_ms, interval_ms, &elapsed_ms, &timed_out);
        if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            end_record("compile", status, elapsed_ms, timed_out);
            return finish(status, timed_out);
        }
        end_record("compile", status, elapsed_ms, timed_out);
    }
    status = run_phase(run_argv, timeout_ms, interval_ms, &elapsed_ms, &timed_out);
    end_record("run", status, elapsed_ms, timed_out);
    return finish(status, timed_out);
}
