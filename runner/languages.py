"""Languages are data: one table entry each, extended or overridden from a TOML file.

A user's `languages.toml` (in the XDG config directory, see `config_dir`) looks like:

    [languages.python]              # override a field of a built-in language
    run = ["python3", "-X", "dev", "{file}"]

    [languages.lua]                 # add a language, in an image of one's own
    image = "my-lua:1"              # built FROM a tui-sandbox image (it needs the init)
    file = "main.lua"
    run = ["lua5.4", "{file}"]
    extensions = [".lua"]
    title = "Lua"                   # what every front calls it (default: the name, capitalised)
    aliases = ["lua5.4"]            # other names it answers to (the CLI, Piston's clients)
    version = "5.4.4"               # or version_probe: a program printing it, asked of the image
    judge0_id = 64                  # Judge0's id for it (default: one made from its name)

Every front reads a language from here and nowhere else: the CLI and the API, Piston's
/runtimes and Judge0's /languages, the app's picker and editor, the report.

Placeholders in commands: {file} (the source's path in the container), {memory_mib}
and {heap_mib} (half the memory limit, for runtimes that size their own heap).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import LanguageError
from .paths import config_dir

CODE_DIR = "/sandbox"
# Judge0's ids for languages it does not know: above any Judge0 CE uses (under 100).
JUDGE0_OWN_IDS, JUDGE0_OWN_ID_SPAN = 1000, 9000


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
    # What people call it, and the other names it answers to (the CLI's --language,
    # Piston's clients, MCP): every front lists and resolves languages by these.
    title: str = ""
    aliases: tuple[str, ...] = ()
    # Its version: a program that prints it (asked of the image once, by the Piston and
    # Judge0 fronts), and the one its image is known to have, for when none can be asked.
    version_probe: str = ""
    version: str = ""
    # Judge0's id for it and its name there ({version} filled in); by default an id made
    # from the name, stable from one server to the next, and "Title ({version})".
    judge0_id: int | None = None
    judge0_name: str = ""
    # The editor: spaces per level, line ends that open a block, where a comment starts.
    indent: int = 4
    block_openers: tuple[str, ...] = ()
    line_comment: str = ""

    @property
    def source_path(self) -> str:
        return f"{CODE_DIR}/{self.file}"

    @property
    def display_name(self) -> str:
        return self.title or self.name.capitalize()

    @property
    def judge0(self) -> tuple[int, str]:
        """(Judge0's id, its name pattern with {version})."""
        number = self.judge0_id if self.judge0_id is not None else JUDGE0_OWN_IDS + zlib.crc32(
            self.name.encode()) % JUDGE0_OWN_ID_SPAN
        return number, self.judge0_name or f"{self.display_name} ({{version}})"

    def commands(self, memory_bytes: int) -> tuple[list[str], list[str]]:
        """(compile argv, run argv) with placeholders filled in."""
        values = {"file": self.source_path, "memory_mib": memory_bytes // (1024 * 1024),
                  "heap_mib": max(8, memory_bytes // (2 * 1024 * 1024))}

        def fill(argv: tuple[str, ...]) -> list[str]:
            return [word.format(**values) for word in argv]

        return fill(self.compile), fill(self.run)


BUILTIN: dict[str, Language] = {
    lang.name: lang
    for lang in (
        # python3, not python3-minimal: the latter lacks ctypes, resource and json.
        Language("python", packages=("python3",), file="main.py", run=("python3", "{file}"),
                 extensions=(".py",), highlight="python",
                 # Output must appear as it is printed, and nothing may be written beside the source.
                 env=(("PYTHONUNBUFFERED", "1"), ("PYTHONDONTWRITEBYTECODE", "1")),
                 title="Python", aliases=("py", "py3", "python3"),
                 version_probe="import sys; print('%d.%d.%d' % sys.version_info[:3])", version="3.11.2",
                 judge0_id=71, judge0_name="Python ({version})",
                 indent=4, block_openers=(":",), line_comment="#"),
        # Node sizes its heap from the host's memory, not the container's: it would be
        # killed by the kernel before its own, clearer, heap-limit error could show.
        # The source is a link to a sealed memfd: Node must not resolve it to its target.
        Language("javascript", packages=("nodejs",), file="main.js",
                 run=("node", "--preserve-symlinks-main", "--max-old-space-size={heap_mib}",
                      "--require=/opt/tui-sandbox/node-stdin.js", "{file}"),
                 extensions=(".js", ".mjs", ".cjs"), highlight="javascript",
                 title="JavaScript", aliases=("js", "node", "node-js", "node-javascript", "nodejs"),
                 version_probe="console.log(process.versions.node)", version="18.20.4",
                 judge0_id=63, judge0_name="JavaScript (Node.js {version})",
                 indent=2, block_openers=("{", "(", "[")),
        # bash and coreutils are in every Debian base: nothing is added.
        Language("bash", packages=(), file="main.sh", run=("bash", "{file}"),
                 extensions=(".sh", ".bash"), highlight="bash",
                 title="Bash", aliases=("sh", "shell"),
                 version_probe='echo "${BASH_VERSINFO[0]}.${BASH_VERSINFO[1]}.${BASH_VERSINFO[2]}"',
                 version="5.2.15", judge0_id=46, judge0_name="Bash ({version})",
                 indent=2, block_openers=("then", "do", "{", "else"), line_comment="#"),
        # The root filesystem may be read-only: the binary goes to /tmp, mounted exec.
        Language("c", packages=("gcc", "libc6-dev"), file="main.c",
                 compile=("gcc", "-O2", "-Wall", "-o", "/tmp/main", "{file}", "-lm"),
                 run=("/tmp/main",), extensions=(".c", ".h"), highlight="c",
                 title="C", aliases=("gcc",),
                 version_probe='#include <stdio.h>\nint main(void) {\n'
                               '    printf("%d.%d.%d\\n", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);\n'
                               '    return 0;\n}\n',
                 version="12.2.0", judge0_id=50, judge0_name="C (GCC {version})",
                 indent=4, block_openers=("{", "(", "[")),
    )
}
# The versions above are Debian bookworm's (with its security updates), which the images
# are built from.


def aliases(table: dict[str, Language] | None = None) -> dict[str, str]:
    """Every other name a language answers to, to its name."""
    return {alias: lang.name for lang in (table or BUILTIN).values() for alias in lang.aliases}



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
    _check_names(table, path)
    return table


def _check_names(table: dict[str, Language], path: Path) -> None:
    """A name or Judge0 id that means two languages would pick one of them by chance."""
    seen: dict[str, str] = {}
    for lang in table.values():
        for alias in lang.aliases:
            if alias in table and alias != lang.name:
                raise LanguageError(f"{path}: {lang.name}'s alias {alias!r} is a language of its own",
                                    f"remove it from [languages.{lang.name}] aliases")
            if seen.setdefault(alias, lang.name) != lang.name:
                raise LanguageError(f"{path}: {alias!r} is an alias of both {seen[alias]} and {lang.name}",
                                    "keep it in one language's aliases")
    ids: dict[int, str] = {}
    for lang in table.values():
        number = lang.judge0[0]
        if ids.setdefault(number, lang.name) != lang.name:
            raise LanguageError(f"{path}: {ids[number]} and {lang.name} have the same Judge0 id {number}",
                                f"give [languages.{lang.name}] a judge0_id of its own")


def _language_from_toml(name: str, entry: object, base: Language | None, path: Path) -> Language:
    where = f"{path}: [languages.{name}]"
    if not isinstance(entry, dict):
        raise LanguageError(f"{where} must be a table")
    known = {f.name for f in fields(Language)} - {"name"}
    unknown = set(entry) - known
    if unknown:
        raise LanguageError(f"{where}: unknown keys {sorted(unknown)}", f"known keys: {sorted(known)}")
    types = {f.name: f.type for f in fields(Language)}
    values: dict[str, Any] = {}
    for key, value in entry.items():
        kind = types[key]
        if kind.startswith("tuple[tuple"):
            if not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
                raise LanguageError(f"{where}: {key} must be a table of strings")
            value = tuple(value.items())
        elif kind.startswith("tuple"):
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise LanguageError(f"{where}: {key} must be a list of strings")
            value = tuple(value)
        elif kind.startswith("int"):
            if not (isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**31):
                raise LanguageError(f"{where}: {key} must be a whole number, 0 or more")
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
    key = name.strip().lower()
    key = aliases(table).get(key, key) if key not in table else key
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
