# Hello, world: the baseline. Everything about the sandbox is on, and nothing trips it.
import platform

print("Hello from inside the sandbox!")
print("Python", platform.python_version(), "on", platform.system(), platform.machine())
