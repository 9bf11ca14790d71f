// What the web page (app.js) and the embed (embed.js) both do with a run: read POST /runs'
// NDJSON events as they come, and word a wall as runner/walls.py's describe() does. The page
// loads it as ui/stream.js; /embed.js is served with it in front (web.py), so that a learning
// site still includes one script. One name on the page: tuiSandbox.
"use strict";

window.tuiSandbox = window.tuiSandbox || (() => {
  // runner/walls.py describe()'s reasons, word for word (the app says the same).
  const WHY = {
    process: (limits) => `the PID limit of ${limits.pids}`,
    network: () => "the network is off",
    filesystem: (limits, wall) => wall.errno === "EROFS" ? "the root is read-only" : "not the sandbox user's to change",
    syscall: () => "the sandbox's policy refuses it",
  };

  // "▌ kind  call  target  blocked (ERRNO[, predicted]): why  ×count"
  function describeWall(wall, limits) {
    const why = (WHY[wall.kind] || (() => "refused"))(limits || {}, wall);
    const errno = wall.exact ? wall.errno : `${wall.errno}, predicted`;
    const times = wall.count > 1 ? `  ×${wall.count}` : "";
    return `▌ ${wall.kind}  ${wall.call}${wall.target ? "  " + wall.target : ""}  blocked (${errno}): ${why}${times}`;
  }

  // Each event of the response, parsed, to handle(event), in order, until the stream ends.
  async function readEvents(response, handle) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += value;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) handle(JSON.parse(line));
      }
    }
    if (buffer.trim()) handle(JSON.parse(buffer));
  }

  return {describeWall, readEvents};
})();
