// Hello, world: the baseline. Everything about the sandbox is on, and nothing trips it.
console.log("Hello from inside the sandbox!");
console.log(`Node ${process.version} on ${process.platform} ${process.arch}`);
