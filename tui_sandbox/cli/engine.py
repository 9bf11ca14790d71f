"""`tui-sandbox images` and `tui-sandbox doctor`: the runner images, and whether this
host can run anything at all, one line a check with its fix."""

from __future__ import annotations

import sys

from runner import Sandbox, SandboxError, format_size, load_languages

from .common import EXIT_ENGINE


def add_engine_parsers(commands) -> None:
    imgs = commands.add_parser("images", help="build or list the runner images")
    img_commands = imgs.add_subparsers(dest="images_command", required=True)
    build = img_commands.add_parser("build", help="build the runner images that are missing")
    build.add_argument("--offline", action="store_true",
                       help="make the Debian base locally with debootstrap (no registry needed)")
    img_commands.add_parser("list", help="show the runner images and whether they are built")
    imgs.set_defaults(handler=cmd_images)
    doctor = commands.add_parser("doctor", help="check the engine, images and runtimes, with fixes")
    doctor.set_defaults(handler=cmd_doctor)


def cmd_images(args) -> int:
    try:
        with Sandbox(languages=load_languages()) as sandbox:
            if args.images_command == "build":
                built = sandbox.build_images(offline=args.offline, progress=lambda line: print(line, flush=True))
                print(f"built {len(built)} image(s); all present" if built else "all images up to date")
                return 0
            for status in sandbox.images():
                size = format_size(status.size_bytes) if status.size_bytes else "-"
                print(f"{status.language:<11} {status.ref:<40} {'present' if status.present else 'missing':<8} "
                      f"{size}")
            return 0
    except SandboxError as exc:
        print(f"tui-sandbox: {exc}", file=sys.stderr)
        return EXIT_ENGINE


def cmd_doctor(args) -> int:
    from ..doctor import doctor_lines

    problems = 0
    for ok, line in doctor_lines():
        print(f"{'ok ' if ok else 'NO '} {line}")
        problems += not ok
    return 1 if problems else 0
