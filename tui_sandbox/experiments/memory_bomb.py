# A memory bomb: it keeps 8 MiB more every step until something stops it.
# The container's memory limit (no swap) is that something: the kernel kills it.
import time

hoard = []
for step in range(1, 10_000):
    hoard.append(bytearray(8 * 1024 * 1024))   # bytearray pages are really touched
    print(f"holding {step * 8} MiB")
    time.sleep(0.05)
