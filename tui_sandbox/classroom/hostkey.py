"""The server's host key: generated once (ed25519), kept in the data directory, reused.

Students check its fingerprint once; a key that changed on every restart would teach them
to ignore OpenSSH's "host identification changed" warning, the one that matters."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .sshlib import asyncssh

HOST_KEY_NAME = "ssh_host_ed25519_key"


class HostKeyError(Exception):
    """The host key exists but cannot be read: never replaced silently."""


def load_or_create_host_key(data_dir: Path) -> tuple[asyncssh.SSHKey, Path]:
    """(key, path): the key kept at data_dir/ssh_host_ed25519_key, made (mode 600) if missing.

    Two servers starting at once agree on one key: the file is written beside its final
    name and linked into place, which fails if the other got there first."""
    data_dir = Path(data_dir)
    path = data_dir / HOST_KEY_NAME
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = asyncssh.generate_private_key("ssh-ed25519", comment="tui-sandbox classroom")
        temporary = data_dir / f".{HOST_KEY_NAME}.{os.getpid()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(key.export_private_key())
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass        # another server made one first: use theirs
        finally:
            temporary.unlink(missing_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)     # a private key others can read is not private
    try:
        return asyncssh.read_private_key(path), path
    except (OSError, ValueError, asyncssh.KeyImportError) as exc:
        raise HostKeyError(f"cannot read the SSH host key {path}: {exc}. Fix or move it away (a new one is then "
                           "made, and students will see that the host key changed)") from None


def fingerprint(key: asyncssh.SSHKey) -> str:
    """SHA256:..., as OpenSSH prints it when it first meets the host."""
    return key.get_fingerprint("sha256")
