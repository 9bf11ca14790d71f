"""Piston v2 compatibility: the existing Piston clients work against this server unmodified.

    GET  /api/v2/runtimes     [{"language", "version", "aliases"}, ...]
    POST /api/v2/execute      {"language", "version", "files": [{"content"}], "stdin", ...}

The same under /api/v2/piston/ (the public instance's prefix, which some clients keep),
each with or without a trailing slash. Every run goes through the service like any
other (queue, ceilings, rate limit, history, origin "piston").

How Piston's request maps onto ours:
- `language`: a runtime's name or alias (ours and Piston's usual ones), any case.
- `version`: an npm semver range, as Piston's `semver.satisfies` reads it ("*", "3.x",
  "3.11.2", ">=3.10 <4", "~18", "^12.2", "1 - 3", "a || b"), in versions.py. Missing
  or "" means "*": Piston refuses it, but npm `piston-client` sends none when
  `language` is an alias. The versions are the images' own (catalog.py).
- `files`: the first utf8 file is the program (as Piston: base64 and hex files are
  checked, never run; we have one source file, so the others are not placed beside it).
- `stdin`: a newline is added when it lacks one, as Piston does.
- `run_timeout` (ms) and `run_memory_limit` (bytes) become the run's timeout and memory
  limit; absent, null, 0 or -1 mean this server's default (10 s, 128 MiB), not Piston's
  3 s and "no limit". Over the service's ceiling: 400, naming the ceiling, as Piston.
- Accepted and not applied, listed in the `X-Sandbox-Ignored` response header when given
  a value: `args` (the engine has no argv pass-through; npm piston-client always sends
  ["1", "2", "3"], so this is never an error), `compile_timeout` (the compile step has the
  engine's own 30 s), `compile_memory_limit` (it shares the run's memory limit),
  `run_cpu_time` and `compile_cpu_time` (CPU is a share here, bounded by the wall clock),
  and files after the first. The compile_* fields are named only for C.

The response: `run`, and `compile` for C, each with stdout, stderr, output, code, signal,
message, status, cpu_time and wall_time (ms) and memory (peak bytes). Text is never null.
`output` holds both streams' lines in the order they were finished (a line is never torn
by the other stream): the engine reads stdout and stderr apart, so lines written close
together on different streams may come in either order. When the
compile fails the run stage is skipped, and `run` repeats `compile` (Piston does that
too, for its older clients). Of a compile that succeeded only the wall time (and the
memory, when a sample fell in it) is known: its cpu_time is null. The compile's end is
marked on stderr alone, so stdout is all the run's (gcc writes none).

Statuses: ok -> null; error -> RE; timeout -> TO; signal -> SG; an OOM kill -> SG with
`message` saying so ("Out of memory: killed at the 128 MiB limit"), which Piston cannot
tell; output_limit -> OL, or EL when stderr's piece crossed our cap (1 MiB for both
streams together, not Piston's 1024 characters each); cancelled -> XX. A run the engine
could not carry out at all (no engine, an image not built) is a 503 with the fix, not a
result. TO, OL and EL carry signal SIGKILL. `message` is our verdict's
sentence whenever the status is not null.

Errors are Piston's shape, `{"message": ...}` (with `fix` when there is one): 400 for a
bad request (bad JSON, any content type is read as JSON; unknown runtime; over a ceiling),
401 without a valid token when the server has tokens, 413 for a body or program too
large, 429 and 503 (with Retry-After where known) when the service is busy, or the
engine or an image is not there.

The parts: routes.py (the endpoints, thin), request.py (reading a request), catalog.py
(the runtimes and their versions), versions.py (version ranges), answer.py (the answer
from a job's events), errors.py (the error answer and the one mapping onto it),
models.py (the shapes in the OpenAPI schema).
"""

from .routes import router
from .versions import satisfies

__all__ = ["router", "satisfies"]
