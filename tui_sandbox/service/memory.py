"""A long-lived server gives its large blocks back to the system when it frees them.

glibc's malloc gives a block of 128 KiB or more a mapping of its own, unmapped when it
is freed, but only until the first such block is freed: it then raises that threshold to
the block's size (up to 32 MiB), so that later blocks as large come from the heap of the
thread that asks, and stay there when freed, between small ones. A flood's megabyte of
output, its JSON answer and its stream are such blocks, each made in whichever thread
carries the run: under a school's mix the server's memory crept up by about half a MiB
a minute for blocks it had freed (bench/soak.py). A threshold that is set is not raised.

    return_large_blocks()       # once, as a server starts
"""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3                # glibc's malloc.h
LARGE_BLOCK_BYTES = 128 * 1024       # glibc's own threshold, before it starts raising it


def return_large_blocks() -> bool:
    """Hold glibc's threshold where it starts; True when it was. Elsewhere (musl, macOS)
    nothing: their allocators have no threshold that rises."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    done: int = mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES)
    return done == 1
