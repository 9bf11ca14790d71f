"""Preludes the engine's tests' programs share."""

# attempt(what, call) prints "what ok" or "what ERRNO" (or the message of an error that has
# no errno, such as a failed look-up).
ATTEMPT = """
import errno, os, socket
def attempt(what, call):
    try:
        call()
        print(what, "ok", flush=True)
    except OSError as exc:
        print(what, errno.errorcode.get(exc.errno, exc.strerror), flush=True)
"""
