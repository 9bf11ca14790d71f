// Is there a network? This looks only at the machine itself: it lists the network
// interfaces, finds the default gateway (the Docker host's bridge), and knocks on its
// port 9. "Connection refused" means a packet went out and an answer came back.
const fs = require("fs");
const net = require("net");
const os = require("os");

console.log("interfaces:", Object.keys(os.networkInterfaces()).join(", "));

let gateway = null;
for (const line of fs.readFileSync("/proc/net/route", "utf8").trim().split("\n").slice(1)) {
  const fields = line.trim().split(/\s+/);
  if (fields[1] === "00000000") {
    const hex = parseInt(fields[2], 16);
    gateway = [0, 8, 16, 24].map((shift) => (hex >>> shift) & 255).join(".");
  }
}

if (gateway === null) {
  console.log("no default route: nothing can leave this container");
  console.log("NETWORK: OFF");
} else {
  console.log("default gateway:", gateway);
  const socket = net.connect({ host: gateway, port: 9, timeout: 2000 });
  const done = (what) => { console.log(what); console.log("NETWORK: ON"); socket.destroy(); };
  socket.on("connect", () => done("connected to the gateway"));
  socket.on("error", (err) => done(err.code === "ECONNREFUSED"
    ? "the gateway answered (connection refused)" : `the gateway did not answer: ${err.code}`));
  socket.on("timeout", () => done("the gateway did not answer in 2 s"));
}
