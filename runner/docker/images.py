"""Runner images: where their Dockerfiles are, how they are tagged, how they are built.

One Dockerfile (language.Dockerfile) makes every built-in language's image from its
entry in the language table: its Debian packages and its source file's name. Tags are
content hashes of what goes into an image (the Dockerfiles, the init, the packages and
the file name), so any change gets a new tag and is rebuilt, and an old image is never
used by mistake. Offline, the base is a Debian image made locally with debootstrap from the
host's own apt sources: no registry is needed, and no mirror is written here.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from ..backend import BUILD_IMAGES, ImageStatus, Progress
from ..errors import SandboxError
from ..languages import BUILTIN, Language
from .client import APIError, EngineClient, ImageNotFound

IMAGE_DIR = Path(__file__).resolve().parent.parent / "images"
ONLINE_BASE = "debian:bookworm-slim"
OFFLINE_BASE_REPO = "tui-sandbox-base"
LABEL = "tui-sandbox.image"



@functools.cache   # the files are the installed package's: a server read them for every container
def _digest(*names: str, extra: str = "") -> str:
    h = hashlib.sha256()
    for name in names:
        h.update(name.encode() + b"\0" + (IMAGE_DIR / name).read_bytes() + b"\0")
    h.update(extra.encode())
    return h.hexdigest()[:12]


def init_ref() -> str:
    return f"tui-sandbox-init:{_digest('init.Dockerfile', 'init.c')}"


def built_here(languages: dict[str, Language] | None = None) -> list[Language]:
    """The languages whose images we build (the others name an image of their own)."""
    return [lang for lang in (languages or BUILTIN).values() if lang.packages is not None]


def image_ref(language: Language) -> str:
    """The image a language's runs use."""
    if language.packages is None:
        return language.image or ""
    recipe = f"{' '.join(language.packages)}\0{language.file}"
    return (f"tui-sandbox-{language.name}:"
            f"{_digest('init.Dockerfile', 'init.c', 'language.Dockerfile', 'node-stdin.js', extra=recipe)}")


def build_command() -> str:
    """The fix to print for a missing image."""
    return BUILD_IMAGES


def list_images(api: EngineClient, languages: dict[str, Language] | None = None) -> list[ImageStatus]:
    present: dict[str, int | None] = {}
    for image in api.images(filters={"label": LABEL}):
        for tag in image.get("RepoTags") or []:
            present[tag] = image.get("Size")
    return [ImageStatus(lang.name, image_ref(lang), image_ref(lang) in present, present.get(image_ref(lang)))
            for lang in built_here(languages)]


def build_images(api: EngineClient, offline: bool, progress: Progress = print,
                 languages: dict[str, Language] | None = None) -> list[str]:
    """Build the init and the language images that are missing; return the refs built."""
    base = ensure_offline_base(api, progress) if offline else ONLINE_BASE
    built = []
    init = init_ref()
    if not _exists(api, init):
        _build(api, "init.Dockerfile", init, {"BASE": base}, progress)
        built.append(init)
    for lang in built_here(languages):
        ref = image_ref(lang)
        if _exists(api, ref):
            progress(f"{ref}: up to date")
            continue
        _build(api, "language.Dockerfile", ref, {"BASE": base, "INIT": init, "SOURCE_FILE": lang.file,
                                                 "PACKAGES": " ".join(lang.packages or ())}, progress)
        built.append(ref)
    for ref in remove_stale_images(api, languages):
        progress(f"removed {ref}: an older build")
    return built


def remove_stale_images(api: EngineClient, languages: dict[str, Language] | None = None) -> list[str]:
    """Our images whose tag no longer matches what goes into them."""
    current = {init_ref(), *(image_ref(lang) for lang in built_here(languages))}
    removed = []
    for image in api.images(filters={"label": LABEL}):
        for tag in image.get("RepoTags") or []:
            if tag.startswith("tui-sandbox-") and tag not in current:
                try:
                    api.remove_image(tag)
                    removed.append(tag)
                except APIError:
                    pass  # still used by a container; the next build tries again
    return removed


def _exists(api: EngineClient, ref: str) -> bool:
    try:
        api.inspect_image(ref)
        return True
    except ImageNotFound:
        return False


def _build(api: EngineClient, dockerfile: str, ref: str, buildargs: dict[str, str], progress: Progress) -> None:
    progress(f"building {ref} from {dockerfile}")
    last_lines: list[str] = []
    for chunk in api.build(IMAGE_DIR, dockerfile=dockerfile, tag=ref, buildargs=buildargs, labels={LABEL: "1"}):
        if "error" in chunk:
            detail = "\n".join(last_lines[-15:])
            raise SandboxError(f"building {ref} failed: {chunk['error'].strip()}\n{detail}",
                               "see the lines above; offline builds need the host's Debian mirror")
        line = (chunk.get("stream") or "").rstrip()
        if line:
            last_lines.append(line)
            if line.startswith("Step "):
                progress(f"  {line}")


# --- the offline base --------------------------------------------------------------

def host_codename() -> str:
    text = Path("/etc/os-release").read_text() if Path("/etc/os-release").exists() else ""
    match = re.search(r"^VERSION_CODENAME=\"?([a-z]+)", text, re.M)
    return match.group(1) if match else "bookworm"


def host_mirror(codename: str, sources_root: Path = Path("/etc/apt")) -> str | None:
    """The host's configured Debian mirror for its release, read from its apt sources."""
    deb822 = sorted(glob.glob(str(sources_root / "sources.list.d" / "*.sources")))
    for path in deb822:
        for stanza in Path(path).read_text().split("\n\n"):
            fields: dict[str, list[str]] = {}
            for line in stanza.splitlines():
                if ":" in line and not line.lstrip().startswith("#"):
                    key, value = line.split(":", 1)
                    fields[key.strip().lower()] = value.split()
            if codename in fields.get("suites", []) and "deb" in fields.get("types", ["deb"]):
                return fields.get("uris", [None])[0]
    for list_file in [sources_root / "sources.list", *sorted((sources_root / "sources.list.d").glob("*.list"))]:
        if not Path(list_file).exists():
            continue
        for line in Path(list_file).read_text().splitlines():
            words = re.sub(r"\[[^]]*\]", "", line).split()
            if len(words) >= 3 and words[0] == "deb" and words[2] == codename:
                return words[1]
    return None


def offline_base_ref() -> str:
    return f"{OFFLINE_BASE_REPO}:{host_codename()}"


def ensure_offline_base(api: EngineClient, progress: Progress) -> str:
    ref = offline_base_ref()
    if _exists(api, ref):
        progress(f"{ref}: present")
        return ref
    codename = host_codename()
    mirror = host_mirror(codename)
    if not mirror:
        raise SandboxError(f"no Debian mirror for {codename!r} found in the host's apt sources",
                           "configure one in /etc/apt/sources.list, or build online")
    if not shutil.which("debootstrap"):
        raise SandboxError("debootstrap is not installed", "apt-get install debootstrap")
    if os.geteuid() != 0:
        raise SandboxError("debootstrap needs root to make the offline base image",
                           "run it once as root: sudo tui-sandbox images build --offline")
    import subprocess  # here: only the offline base's first build runs a program

    progress(f"making {ref} with debootstrap from the host's mirror (about a minute)")
    with tempfile.TemporaryDirectory(prefix="tui-sandbox-base-") as tmp:
        root = Path(tmp) / "root"
        run = subprocess.run(["debootstrap", "--variant=minbase", codename, str(root), mirror],
                             capture_output=True, text=True)
        if run.returncode != 0:
            raise SandboxError(f"debootstrap failed:\n{run.stderr[-2000:]}")
        tarball = Path(tmp) / "root.tar"
        subprocess.run(["tar", "-C", str(root), "-cf", str(tarball), "."], check=True)
        repo, tag = ref.split(":")
        api.import_image_from_file(str(tarball), repository=repo, tag=tag)
        shutil.rmtree(root, ignore_errors=True)
    return ref
