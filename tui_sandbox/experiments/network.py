# Is there a network? It lists the interfaces and routes the container has. With the
# network off there is only the loopback interface "lo", and it tries to reach the
# outside anyway (a name look-up, a connection): watch the walls it hits. With the
# network on it starts a tiny server on its own network address and connects to it, so
# nothing leaves the container either way.
import fcntl
import socket
import struct
import threading

interfaces = [name for _, name in socket.if_nameindex()]
print("interfaces:", ", ".join(interfaces))

with open("/proc/net/route") as routes:
    has_default_route = any(line.split()[1] == "00000000" for line in routes.readlines()[1:])
print("default route:", "yes" if has_default_route else "none")

outside = [name for name in interfaces if name != "lo"]
if not outside:
    print("only loopback: nothing can leave this container")
    # Try anyway, as any program would: look a name up, then connect by address.
    for what, attempt in [("look up example.com", lambda: socket.gethostbyname("example.com")),
                          ("connect to 93.184.216.34:80",
                           lambda: socket.create_connection(("93.184.216.34", 80), timeout=2))]:
        try:
            attempt()
            print(f"{what}: it worked")
        except OSError as refused:
            print(f"{what}: {refused.strerror or refused}")
    print("NETWORK: OFF")
else:
    # Our own address on that interface, asked of the kernel (SIOCGIFADDR): no packet.
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    request = struct.pack("256s", outside[0].encode())
    address = socket.inet_ntoa(fcntl.ioctl(probe.fileno(), 0x8915, request)[20:24])
    probe.close()
    server = socket.create_server((address, 0))
    threading.Thread(target=lambda: server.accept()[0].sendall(b"hello"), daemon=True).start()
    with socket.create_connection(server.getsockname(), timeout=2) as client:
        print(f"{outside[0]} has address {address}; a server there answered:", client.recv(5).decode())
    print("NETWORK: ON")
