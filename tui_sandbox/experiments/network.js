// Is there a network? Nothing here leaves the container: it lists the interfaces the
// container has, then starts a tiny server on its own network address and connects to
// it. With the network off there is only the loopback interface "lo".
const net = require("net");
const os = require("os");

const interfaces = os.networkInterfaces();
console.log("interfaces:", Object.keys(interfaces).join(", "));

const outside = Object.entries(interfaces)
  .flatMap(([name, addresses]) => addresses.map((a) => ({ name, ...a })))
  .find((a) => a.family === "IPv4" && !a.internal);

if (!outside) {
  console.log("only loopback: nothing can leave this container");
  console.log("NETWORK: OFF");
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
