# Read /etc/passwd: it works, but it is the container's own file, not the host's.
# The program runs as an unprivileged user that exists nowhere on the host.
import os

print(f"I am uid {os.getuid()}, gid {os.getgid()}, in {os.getcwd()}")
print("--- /etc/passwd ---")
with open("/etc/passwd") as passwd:
    print(passwd.read(), end="")
print("--- hostname:", open("/etc/hostname").read().strip())
