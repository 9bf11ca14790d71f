"""asyncssh, imported once for the classroom, without cryptography's warning about DSA.

asyncssh still knows DSA keys, and cryptography 4x warns at import that DSA will go: a
line about a library's internals that a teacher starting a class can do nothing about.
The classroom's host key is Ed25519 (hostkey.py) and no DSA key is ever made or used
here, so that one warning, from asyncssh's own modules, is dropped; any other warning still
shows (and fails tests/cluster/test_no_warnings.py)."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"asyncssh\.")
    import asyncssh

__all__ = ["asyncssh"]
