// Preloaded into every Node program (NODE_OPTIONS=--require): its standard input behaves
// as it does at a terminal. A paused stdin read from a pipe keeps Node alive until end
// of file, so a readline program that asked its question, got its answer and called
// rl.close() would sit there until its timeout; at a terminal it ends. Here a paused
// stdin is unref'd, and ref'd again when it resumes, so the program ends when nothing
// else is pending. process.stdin is wrapped, not touched: opening it eagerly would make
// fd 0 non-blocking and break fs.readFileSync(0).
'use strict';
const described = Object.getOwnPropertyDescriptor(process, 'stdin');
if (described && described.get) {
  Object.defineProperty(process, 'stdin', {
    configurable: true,
    enumerable: described.enumerable,
    get() {
      const stdin = described.get.call(process);
      if (typeof stdin.unref === 'function' && !stdin.tuiSandboxTerminalLike) {
        stdin.tuiSandboxTerminalLike = true;
        stdin.on('pause', () => process.nextTick(() => { if (!stdin.readableFlowing) stdin.unref(); }));
        stdin.on('resume', () => stdin.ref());
      }
      return stdin;
    },
  });
}
