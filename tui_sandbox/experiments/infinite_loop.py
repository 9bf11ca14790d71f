# An infinite loop: it never ends on its own. The sandbox's wall-clock timeout stops it.
import time

started = time.monotonic()
spins = 0
next_report = 1.0
while True:
    spins += 1
    if time.monotonic() - started >= next_report:
        print(f"still spinning after {next_report:.0f} s ({spins:,} turns)")
        next_report += 1.0
