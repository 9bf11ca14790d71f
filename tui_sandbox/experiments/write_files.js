// Write files in a few places. /tmp is a small in-memory filesystem and always works;
// the rest of the filesystem is read-only unless you turn read-only off (F3).
const fs = require("fs");

for (const path of ["/tmp/note.txt", "/home/sandbox/note.txt", "/var/tmp/note.txt", "/note.txt",
                    "/sandbox/note.txt"]) {
  try {
    fs.writeFileSync(path, "written from the sandbox\n");
    console.log(`wrote    ${path}`);
  } catch (err) {
    console.log(`refused  ${path}: ${err.code}`);
  }
}
