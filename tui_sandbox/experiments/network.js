// Is there a network? It lists the interfaces the container has. With the network off
// there is only the loopback interface "lo", and it tries to reach the outside anyway (a
// name look-up, a connection): watch the walls it hits. With the network on it starts a
// tiny server on its own network address and connects to it, so nothing leaves the
// container either way.
const net = require("net");
const os = require("os");

const interfaces = os.networkInterfaces();
console.log("interfaces:", Object.keys(interfaces).join(", "));

const outside = Object.entries(interfaces)
  .flatMap(([name, addresses]) => addresses.map((a) => ({ name, ...a })))
  .find((a) => a.family === "IPv4" && !a.internal);

if (!outside) {
  console.log("only loopback: nothing can leave this container");
  // Try anyway, as any program would: look a name up, then connect by address.
  require("dns").lookup("example.com", (err) => {
    console.log("look up example.com:", err ? err.code : "it worked");
    const client = net.connect({ host: "93.184.216.34", port: 80, timeout: 2000 });
    client.on("connect", () => { console.log("connect to 93.184.216.34:80: it worked"); client.destroy(); });
    client.on("error", (e) => console.log("connect to 93.184.216.34:80:", e.code));
    client.on("close", () => console.log("NETWORK: OFF"));
  });
} else {
  const server = net.createServer((socket) => socket.end("hello"));
  server.listen(0, outside.address, () => {
    const client = net.connect(server.address().port, outside.address);
    client.on("data", (data) => {
      console.log(`${outside.name} has address ${outside.address}; a server there answered:`, data.toString());
      console.log("NETWORK: ON");
      client.destroy();
      server.close();
    });
  });
}
