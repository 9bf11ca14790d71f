// A memory bomb: it keeps 8 MiB more every step until something stops it.
// Buffers live outside Node's heap, so the container's memory limit is what stops it.
const hoard = [];
let step = 0;
const grow = () => {
  step += 1;
  hoard.push(Buffer.alloc(8 * 1024 * 1024, 1)); // filled, so the pages are really used
  console.log(`holding ${step * 8} MiB`);
  setTimeout(grow, 50);
};
grow();
