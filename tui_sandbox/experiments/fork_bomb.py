# A fork bomb that keeps its parent alive: it makes children until the system says no.
# The PIDs limit is what says no; the parent then reports and exits, and the sandbox's
# init cleans up every child.
import os
import time

children = 0
while True:
    try:
        pid = os.fork()
    except OSError as exc:
        print(f"fork refused after {children} children: {exc.strerror}")
        break
    if pid == 0:                 # a child: sit there holding a PID
        time.sleep(60)
        os._exit(0)
    children += 1
    if children % 10 == 0:
        print(f"{children} children so far")
print("the parent is still alive: the PIDs limit held")
time.sleep(2)                    # hold them all a moment: the PIDs meter sits at the limit
