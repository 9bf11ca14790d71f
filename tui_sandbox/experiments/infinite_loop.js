// An infinite loop: it never ends on its own. The sandbox's wall-clock timeout stops it.
const started = Date.now();
let spins = 0;
let nextReport = 1000;
for (;;) {
  spins += 1;
  if (Date.now() - started >= nextReport) {
    console.log(`still spinning after ${nextReport / 1000} s (${spins.toLocaleString()} turns)`);
    nextReport += 1000;
  }
}
