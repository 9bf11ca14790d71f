"""Languages are data: one table entry each, extended or overridden from a TOML file.

A user's `languages.toml` (in the XDG config directory, see `config_dir`) looks like:

    [languages.python]              # override a field of a built-in language
    run = ["python3", "-X", "dev", "{file}"]

    [languages.lua]                 # add a language, in an image of one's own
    image = "my-lua:1"              # built FROM a tui-sandbox image (it needs the init)
    file = "main.lua"
    run = ["lua5.4", "{file}"]
    extensions = [".lua"]

Placeholders in commands: {file} (the source's path in the container), {memory_mib}
and {heap_mib} (half the memory limit, for runtimes that size their own heap).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from .errors import LanguageError

CODE_DIR = "/sandbox"


@dataclass(frozen=True)
class Language:
    name: str
    # The runner image: its Debian packages for one we build (runner/images/language.Dockerfile
    # with the init), or `image`, a reference to one built elsewhere (FROM one of ours).
    packages: tuple[str, ...] | None = None
    image: str | None = None
    file: str = ""                       # the source's file name in the container
    run: tuple[str, ...] = ()
    compile: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    highlight: str | None = None         # the editor's syntax name
    env: tuple[tuple[str, str], ...] = ()

    @property
    def source_path(self) -> str:
        return f"{CODE_DIR}/{self.file}"

    def commands(self, memory_bytes: int) -> tuple[list[str], list[str]]:
        """(compile argv, run argv) with placeholders filled in."""
        values = {"file": self.source_path, "memory_mib": memory_bytes // (1024 * 1024),
                  "heap_mib": max(8, memory_bytes // (2 * 1024 * 1024))}
        fill = lambda argv: [word.format(**values) for word in argv]  # noqa: E731
        return fill(self.compile), fill(self.run)


BUILTIN: dict[str, Language] = {
    lang.name: lang
    for lang in (
        # python3, not python3-minimal: the latter lacks ctypes, resource and json.
        Language("python", packages=("python3",), file="main.py", run=("python3", "{file}"),
                 extensions=(".py",), highlight="python",
                 # Output must appear as it is printed, and nothing may be written beside the source.
                 env=(("PYTHONUNBUFFERED", "1"), ("PYTHONDONTWRITEBYTECODE", "1"))),
        # Node sizes its heap from the host's memory, not the container's: it would be
        # killed by the kernel before its own, clearer, heap-limit error could show.
        # The source is a link to a sealed memfd: Node must not resolve it to its target.
        Language("javascript", packages=("nodejs",), file="main.js",
                 run=("node", "--preserve-symlinks-main", "--max-old-space-size={heap_mib}",
                      "--require=/opt/tui-sandbox/node-stdin.js", "{file}"),
                 extensions=(".js", ".mjs", ".cjs"), highlight="javascript"),
        # bash and coreutils are in every Debian base: nothing is added.
        Language("bash", packages=(), file="main.sh", run=("bash", "{file}"),
                 extensions=(".sh", ".bash"), highlight="bash"),
        # The root filesystem may be read-only: the binary goes to /tmp, mounted exec.
        Language("c", packages=("gcc", "libc6-dev"), file="main.c",
                 compile=("gcc", "-O2", "-Wall", "-o", "/tmp/main", "{file}", "-lm"),
                 run=("/tmp/main",), extensions=(".c", ".h"), highlight="c"),
    )
}

ALIASES = {"py": "python", "python3": "python", "js": "javascript", "node": "javascript",
           "sh": "bash", "shell": "bash", "gcc": "c"}


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "tui-sandbox"


def load_languages(config_file: Path | None = None) -> dict[str, Language]:
    """The built-in table, with the user's languages.toml applied on top."""
    path = config_file or config_dir() / "languages.toml"
    table = dict(BUILTIN)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return table
    except OSError as exc:
        raise LanguageError(f"cannot read {path}: {exc.strerror}", "fix its permissions, or remove it") from None
    except UnicodeDecodeError as exc:
        raise LanguageError(f"cannot read {path}: {exc}", "fix or remove that file") from None
    import tomllib  # only when the user has a file: `tui-sandbox run` stays lean

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LanguageError(f"cannot read {path}: {exc}", "fix or remove that file") from None
    entries = data.get("languages", {})
    if not isinstance(entries, dict):
        raise LanguageError(f"{path}: [languages] must be a table of tables")
    for name, entry in entries.items():
        table[name] = _language_from_toml(name, entry, table.get(name), path)
    return table


def _language_from_toml(name: str, entry, base: Language | None, path: Path) -> Language:
    where = f"{path}: [languages.{name}]"
    if not isinstance(entry, dict):
        raise LanguageError(f"{where} must be a table")
    known = {f.name for f in fields(Language)} - {"name"}
    unknown = set(entry) - known
    if unknown:
        raise LanguageError(f"{where}: unknown keys {sorted(unknown)}", f"known keys: {sorted(known)}")
    values = {}
    for key, value in entry.items():
        if key in ("run", "compile", "extensions", "packages"):
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise LanguageError(f"{where}: {key} must be a list of strings")
            value = tuple(value)
        elif key == "env":
            if not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
                raise LanguageError(f"{where}: env must be a table of strings")
            value = tuple(value.items())
        elif not isinstance(value, str):
            raise LanguageError(f"{where}: {key} must be a string")
        values[key] = value
    if base is not None:
        # One way to get the image: naming one drops the packages we would build with.
        if "image" in values:
            values["packages"] = None
        elif "packages" in values:
            values["image"] = None
        return replace(base, **values)
    missing = {"file", "run"} - set(values)
    if missing or ("image" in values) == ("packages" in values):
        raise LanguageError(f"{where}: a new language needs file, run, and either image (one built "
                            "FROM a tui-sandbox image) or packages (Debian packages to build one with)")
    if not values["run"]:
        raise LanguageError(f"{where}: run must not be empty")
    return Language(name=name, **values)


def resolve(name: str, table: dict[str, Language] | None = None) -> Language:
    table = table or BUILTIN
    key = name.lower()
    key = ALIASES.get(key, key) if key not in table else key
    if key not in table:
        raise LanguageError(f"unknown language {name!r}", f"choose one of: {', '.join(sorted(table))}")
    return table[key]


def for_filename(filename: str, table: dict[str, Language] | None = None) -> Language | None:
    """The language whose extensions match a file name, if any."""
    suffix = Path(filename).suffix.lower()
    for lang in (table or BUILTIN).values():
        if suffix and suffix in lang.extensions:
            return lang
    return None
