# Is there a network? Nothing here leaves the container: it lists the interfaces and
# routes the container has, then starts a tiny server on its own network address and
# connects to it. With the network off there is only the loopback interface "lo".
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
