// A fork bomb that keeps its parent alive: it starts `sleep` processes until the system
// says no. The PIDs limit is what says no; the sandbox's init cleans up the rest.
const { spawn } = require("child_process");

let children = 0;
const next = () => {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  child.on("error", (err) => {
    console.log(`spawn refused after ${children} children: ${err.code}`);
    console.log("the parent is still alive: the PIDs limit held");
    // Hold them all a moment: the PIDs meter sits at the limit.
    setTimeout(() => process.exit(0), 2000);
  });
  child.on("spawn", () => {
    children += 1;
    if (children % 10 === 0) console.log(`${children} children so far`);
    setImmediate(next);
  });
};
next();
