"""Judge0 CE compatibility: Judge0's clients (its official Python SDK among them) work
against this server unmodified, as against a Judge0 CE 1.13.1.

    GET  /judge0/languages, /judge0/languages/{id}, /statuses, /about, /config_info, /system_info
    POST /submissions?base64_encoded=&wait=&fields=    {"source_code", "language_id", ...}
    GET  /submissions/{token}, DELETE /submissions/{token}
    POST /submissions/batch, GET /submissions/batch?tokens=a,b

Every path is under /judge0, and at the root too except /languages (ours there). Every
run goes through the service like any other (queue, ceilings, tokens, rate limit,
history, origin "judge0"); a token is the run's id (a UUID), so GET /runs/{token} reads
it too. Judge0's X-Auth-Token header is taken as a token, like Authorization: Bearer.

How a submission maps onto ours (request.py):
- `source_code`, `stdin`, `expected_output`: text, Base64 with base64_encoded=true.
- `language_id`: Judge0 CE's ids, 46 Bash, 50 C, 63 JavaScript, 71 Python, each named with
  its image's own version ("Python (3.11.2)").
- `wall_time_limit` (s) -> the timeout, `memory_limit` (KB) -> memory,
  `max_processes_and_or_threads` -> pids, `max_file_size` (KB) -> the file size cap,
  `enable_network` -> the network; over this server's ceiling is a 422 naming it.
- `cpu_time_limit` (s): we limit the wall clock and a CPU share, not CPU seconds; a value
  the share over the wall clock can never reach is accepted, a lower one is a 422.
  `cpu_extra_time` only widens it: accepted.
- Refused (422) when set to anything but their neutral values (null, false, "", 1):
  `command_line_arguments`, `compiler_options` (the compile command is fixed),
  `redirect_stderr_to_stdout`, `stack_limit`, `number_of_runs`, `callback_url`,
  `additional_files`, and the per-process limits.

Statuses (statuses.py): In Queue and Processing while it waits and runs; then ok ->
Accepted, or Wrong Answer when `expected_output` was given and differs (compared as
Judge0 does: runner.expected); timeout -> Time Limit Exceeded; a compile failure ->
Compilation Error with `compile_output`; a signal -> Runtime Error (SIGSEGV, SIGFPE,
SIGABRT, SIGXFSZ, else Other); a non-zero exit -> NZEC; an OOM kill -> Other (SIGKILL)
or NZEC; an output flood -> SIGXFSZ (Judge0's own for an output over its file limit);
cancelled, or the engine could not run it -> Internal Error. `message` is our kill reason
(the first difference for a wrong answer); `time` is CPU seconds, `wall_time` the run's,
`memory` the peak in KB.

The parts: routes.py (the endpoints), request.py (a submission read), submissions.py
(the runs as submissions), statuses.py, languages.py, system.py (about, config_info,
system_info).
"""

from .routes import router

__all__ = ["router"]
