// Overwrite its own script: the source is owned by root and read-only (0444), so this
// fails whatever the read-only toggle says. The program cannot change what it is.
const fs = require("fs");

console.log("my source is", __filename);
fs.writeFileSync(__filename, "console.log('I rewrote myself');\n");
console.log("rewrote myself (this should not happen)");
