# Is there a network? This looks only at the machine itself: it lists the network
# interfaces, finds the default gateway (the Docker host's bridge), and knocks on its
# port 9. "Connection refused" means a packet went out and an answer came back.
import socket
import struct

print("interfaces:", ", ".join(name for _, name in socket.if_nameindex()))

gateway = None
with open("/proc/net/route") as routes:
    for line in routes.readlines()[1:]:
        fields = line.split()
        if fields[1] == "00000000":                     # the default route
            gateway = socket.inet_ntoa(struct.pack("<L", int(fields[2], 16)))

if gateway is None:
    print("no default route: nothing can leave this container")
    print("NETWORK: OFF")
else:
    print("default gateway:", gateway)
    try:
        socket.create_connection((gateway, 9), timeout=2).close()
        print("connected to the gateway")
    except ConnectionRefusedError:
        print("the gateway answered (connection refused)")
    except OSError as exc:
        print("the gateway did not answer:", exc)
    print("NETWORK: ON")
