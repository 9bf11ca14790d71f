"""`tui-sandbox worker`'s flags: one Docker host's part of a cluster (tui_sandbox.cluster).
Its libraries (redis-py, the engine's Docker client) load only when it starts."""

from __future__ import annotations

import os
import socket
import sys

from .common import EXIT_ENGINE, EXIT_INTERRUPTED, EXIT_USAGE


def add_worker_parser(commands) -> None:
    worker = commands.add_parser(
        "worker", help="carry out a cluster's runs on this host's engine (see serve --broker)",
        description="Takes runs from the broker's shared queue while it has a free place, runs each on this "
        "host's Docker engine and sends its events back through the broker. Needs no inbound port. SIGTERM: "
        "it takes no more, finishes or cancels what it runs, removes its containers and leaves.")
    worker.add_argument("--broker", required=True, metavar="URL",
                        help="the cluster's Redis: redis://[:PASSWORD@]HOST:6379/0 (rediss:// for TLS)")
    worker.add_argument("--name", default=socket.gethostname(),
                        help="this worker's name in results and the teacher's view (default: the host name)")
    worker.add_argument("--max-running", type=int, metavar="N", default=os.cpu_count() or 1,
                        help=f"programs running at once on this host (default: the CPU count, {os.cpu_count()})")
    worker.add_argument("--runtime", action="append", metavar="NAME",
                        help="a runtime this worker offers runs (repeatable; default: every one its engine has)")
    worker.add_argument("--drain", type=float, default=10.0, metavar="SECONDS",
                        help="on SIGTERM, how long runs may go on before they are cancelled (default 10)")
    worker.set_defaults(handler=cmd_worker)


def cmd_worker(args) -> int:
    if args.max_running < 1:
        print("tui-sandbox: --max-running must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    import asyncio
    import signal

    from runner import SandboxError

    from ..cluster.broker import BrokerError
    from ..cluster.worker import Worker
    from ..service.memory import return_large_blocks

    return_large_blocks()            # a flood's megabytes, freed, leave the process (service.memory)

    async def main() -> None:
        worker = Worker(args.broker, name=args.name, max_running=args.max_running,
                        runtimes=tuple(args.runtime or ()), drain_s=args.drain)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, worker.stop)

        def ready(worker: Worker) -> None:
            print(f"tui-sandbox worker {worker.name}: up to {worker.cap} running, runtimes "
                  f"{', '.join(worker.runtimes)} · broker {args.broker.split('@')[-1]} · pid {os.getpid()}",
                  flush=True)

        await worker.serve(ready)

    try:
        asyncio.run(main())
    except BrokerError as exc:
        print(f"tui-sandbox: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SandboxError as exc:
        print(f"tui-sandbox: {exc.message}" + (f" ({exc.fix})" if exc.fix else ""), file=sys.stderr)
        return EXIT_ENGINE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return 0
