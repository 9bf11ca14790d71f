// Drives the npm `piston-client` package, unmodified, for tests/service/test_piston.py;
// also asks npm's `semver` what Piston's semver.satisfies would say.
//   node piston_client.mjs NODE_MODULES_DIR < {"server", "calls": [...], "semver": [[v, r], ...]}
// Each call is {"op": "runtimes"} or {"op": "execute", "language", "code", "config"}; the
// answer, on stdout, is {"calls": [what the client returned, ...], "semver": [bool, ...]}.
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.argv[2];
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const job = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const answer = { calls: [], semver: [] };
if (job.calls && job.calls.length) {
  const { piston } = await import(pathToFileURL(join(modules, "piston-client", "index.js")).href);
  const client = piston({ server: job.server });
  for (const call of job.calls) {
    let result;
    if (call.op === "runtimes") {
      result = await client.runtimes();
    } else {
      result = call.config === undefined
        ? await client.execute(call.language, call.code)
        : await client.execute(call.language, call.code, call.config);
    }
    // The client hands back { success: false, error } when the request itself failed.
    if (result && result.error instanceof Error) result.error = String(result.error);
    answer.calls.push(result);
  }
}
if (job.semver && job.semver.length) {
  const semver = createRequire(join(modules, "noop.js"))("semver");
  for (const [version, range] of job.semver) answer.semver.push(semver.satisfies(version, range));
}
process.stdout.write(JSON.stringify(answer));
