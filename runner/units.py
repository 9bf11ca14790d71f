"""Sizes and durations, read and written in one place: every screen, line and message
of the project shows a size through `format_size`."""

from __future__ import annotations

import re

from .errors import LimitError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

_UNITS = {"": 1, "b": 1, "k": KiB, "kb": KiB, "kib": KiB, "m": MiB, "mb": MiB, "mib": MiB,
          "g": GiB, "gb": GiB, "gib": GiB}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_STEPS = ((GiB, "GiB", "G", "g"), (MiB, "MiB", "M", "m"), (KiB, "KiB", "K", "k"))


def parse_size(text: str | int, what: str = "size") -> int:
    """'128m', '1g', '512KiB' or a plain byte count, to bytes (binary units)."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(str(text))
    if not match:
        raise LimitError(f"{what}: cannot read {text!r} as a size", "write it like 128m, 1g or 512k")
    number, unit = match.groups()
    factor = _UNITS.get(unit.lower())
    if factor is None:
        raise LimitError(f"{what}: unknown size suffix {unit!r} in {text!r}",
                         "use k, m or g (binary: 1m = 1024k)")
    return int(float(number) * factor)


def format_size(n: int, style: str = "long") -> str:
    """Bytes for people. style "long": '128 MiB', '4.4 MiB'; "short": '128M', '4.4M' (for
    narrow panels); "flag": '128m', exact, as parse_size and the CLI flags read it."""
    if style == "flag":
        for factor, _, _, suffix in _STEPS:
            if n and n % factor == 0:
                return f"{n // factor}{suffix}"
        return str(n)
    for factor, long_unit, short_unit, _ in _STEPS:
        if n >= factor:
            value = n / factor
            number = f"{value:.0f}" if value == int(value) or value >= 100 else f"{value:.1f}"
            return f"{number} {long_unit}" if style == "long" else f"{number}{short_unit}"
    return f"{n} B" if style == "long" else f"{n}B"


def format_seconds(s: float) -> str:
    return f"{s:g} s"
