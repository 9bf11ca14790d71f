// Read /etc/passwd: it works, but it is the container's own file, not the host's.
// The program runs as an unprivileged user that exists nowhere on the host.
const fs = require("fs");
const os = require("os");

console.log(`I am uid ${process.getuid()}, gid ${process.getgid()}, in ${process.cwd()}`);
console.log("--- /etc/passwd ---");
process.stdout.write(fs.readFileSync("/etc/passwd", "utf8"));
console.log("--- hostname:", os.hostname());
