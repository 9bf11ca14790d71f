// The seeds' page: send the code box to POST /runs, read the NDJSON events as they
// come, and show the place in line, the output, the stats and the verdict live.
// Plain script, no build step, nothing from elsewhere: the page's CSP allows 'self' only.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const ui = {
    form: $("controls"), example: $("example"), language: $("language"), memory: $("memory"),
    timeout: $("timeout"), network: $("network"), readOnly: $("read-only"), run: $("run"), stop: $("stop"),
    code: $("code"), exampleNote: $("example-note"), verdict: $("verdict"), word: $("verdict-word"),
    reason: $("verdict-reason"), figures: $("verdict-figures"), status: $("status"), output: $("output"),
    memoryText: $("stat-memory"), memoryBar: $("stat-memory-bar"), cpu: $("stat-cpu"), pids: $("stat-pids"),
    time: $("stat-time"), message: $("message"), auth: $("auth"), authForm: $("auth-form"), token: $("token"),
    server: $("server"), stdin: $("stdin"),
  };

  const TOKEN_KEY = "tui-sandbox.token";
  const WORDS = {
    ok: "OK", error: "ERROR", timeout: "TIMEOUT", oom: "OOM", output_limit: "OUTPUT LIMIT",
    signal: "SIGNAL", cancelled: "CANCELLED",
  };
  const MiB = 1024 * 1024;

  let current = null;        // the run on screen: {id, controller, stopping, ended, limits, ...}
  let retryAfterToken = false;

  // --- small helpers ------------------------------------------------------------------

  function formatSize(bytes) {
    if (bytes === null || bytes === undefined) return "–";
    const steps = [[1024 ** 3, "GiB"], [MiB, "MiB"], [1024, "KiB"]];
    for (const [factor, unit] of steps) {
      if (bytes >= factor) {
        const value = bytes / factor;
        const text = value === Math.trunc(value) || value >= 100 ? value.toFixed(0) : value.toFixed(1);
        return `${text} ${unit}`;
      }
    }
    return `${bytes} B`;
  }

  function formatSeconds(s) {
    return `${Number(s).toFixed(s < 100 ? 2 : 0)} s`;
  }

  function ordinal(n) {
    const tens = n % 100;
    const suffix = tens >= 10 && tens <= 20 ? "th" : ({1: "st", 2: "nd", 3: "rd"}[n % 10] || "th");
    return `${n}${suffix}`;
  }

  function headers(extra = {}) {
    const all = {...extra};
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) all.Authorization = `Bearer ${token}`;
    return all;
  }

  // Every refusal is one JSON shape: {"error": ..., "fix": ...}; 429 and 503 say Retry-After.
  async function describeError(response) {
    let body = null;
    try { body = await response.json(); } catch { /* a proxy's HTML page, say */ }
    const text = (body && body.error) || `${response.status} ${response.statusText || "error"}`;
    let fix = (body && body.fix) || "";
    const retry = response.headers.get("Retry-After");
    if (retry) fix = `${fix ? fix + " " : ""}(try again in ${retry} s)`;
    return {status: response.status, text, fix};
  }

  function showMessage(text, fix = "") {
    ui.message.textContent = text;
    if (fix) {
      const span = document.createElement("span");
      span.className = "fix";
      span.textContent = fix;
      ui.message.append(span);
    }
    ui.message.hidden = false;
  }

  function clearMessage() {
    ui.message.hidden = true;
    ui.message.textContent = "";
  }

  function askForToken() {
    ui.auth.hidden = false;
    ui.token.value = "";
    ui.token.focus();
  }

  // --- the verdict box, the status line and the stats -----------------------------------

  function setVerdict(state, word, reason, figures = "") {
    ui.verdict.dataset.verdict = state;
    ui.word.textContent = word;
    ui.reason.textContent = reason;
    ui.figures.textContent = figures;
  }

  function resetStats() {
    ui.memoryText.textContent = "–";
    ui.memoryBar.style.width = "0";
    ui.memoryBar.parentElement.classList.remove("high");
    ui.cpu.textContent = "–";
    ui.pids.textContent = "–";
    ui.time.textContent = "–";
  }

  function showStats(ev, limits) {
    const memory = ev.memory_bytes;
    const memoryLimit = limits && limits.memory_bytes;
    if (memory !== null && memory !== undefined) {
      ui.memoryText.textContent = memoryLimit ? `${formatSize(memory)} / ${formatSize(memoryLimit)}`
        : formatSize(memory);
      if (memoryLimit) {
        const share = Math.min(1, memory / memoryLimit);
        ui.memoryBar.style.width = `${(share * 100).toFixed(1)}%`;
        ui.memoryBar.parentElement.classList.toggle("high", share >= 0.8);
      }
    }
    if (ev.cpu_percent !== null && ev.cpu_percent !== undefined) {
      const cap = limits && limits.cpus ? ` / ${Math.round(limits.cpus * 100)}%` : "";
      ui.cpu.textContent = `${Math.round(ev.cpu_percent)}%${cap}`;
    }
    if (ev.pids !== null && ev.pids !== undefined) {
      ui.pids.textContent = limits && limits.pids ? `${ev.pids} / ${limits.pids}` : `${ev.pids}`;
    }
    if (ev.elapsed_s !== null && ev.elapsed_s !== undefined) ui.time.textContent = formatSeconds(ev.elapsed_s);
  }

  // --- the output: chunks drawn once a frame, stderr apart --------------------------------

  let pending = [];
  let frame = 0;

  function appendOutput(stream, text) {
    if (!text) return;
    pending.push([stream === "stderr" ? "stderr" : "stdout", text]);
    if (!frame) frame = requestAnimationFrame(flushOutput);
  }

  function flushOutput() {
    if (frame) cancelAnimationFrame(frame);
    frame = 0;
    if (!pending.length) return;
    const out = ui.output;
    const atBottom = out.scrollHeight - out.scrollTop - out.clientHeight < 48;
    for (const [stream, text] of pending) {
      const last = out.lastElementChild;
      if (last && last.dataset.stream === stream) {
        last.firstChild.appendData(text);
      } else {
        const span = document.createElement("span");
        span.className = stream;
        span.dataset.stream = stream;
        span.append(document.createTextNode(text));
        out.append(span);
      }
    }
    pending = [];
    if (atBottom) out.scrollTop = out.scrollHeight;
  }

  function outputNotice(text) {
    flushOutput();
    const span = document.createElement("span");
    span.className = "notice";
    span.dataset.stream = "notice";
    const last = ui.output.lastElementChild;
    const needsBreak = last && last.textContent && !last.textContent.endsWith("\n");
    span.textContent = `${needsBreak ? "\n" : ""}${text}\n`;
    ui.output.append(span);
    ui.output.scrollTop = ui.output.scrollHeight;
  }

  // A wall the sandbox stopped the program at, among the output where it happened; the same
  // wall again changes its line's count. Worded as runner/walls.py's describe() words it.
  function showWall(wall, run) {
    flushOutput();
    const text = tuiSandbox.describeWall(wall, run.limits);
    const key = [wall.kind, wall.call, wall.target, wall.errno].join("\u0000");
    run.walls = run.walls || new Map();
    let span = run.walls.get(key);
    if (!span || !span.isConnected) {
      span = document.createElement("span");
      span.className = "wall";
      span.dataset.stream = "wall";
      const last = ui.output.lastElementChild;
      span.dataset.lead = last && last.textContent && !last.textContent.endsWith("\n") ? "\n" : "";
      run.walls.set(key, span);
      ui.output.append(span);
    }
    span.textContent = `${span.dataset.lead}${text}\n`;   // textContent: the program's claim is shown, never parsed
    ui.output.scrollTop = ui.output.scrollHeight;
  }

  // --- one run ----------------------------------------------------------------------------

  function readRequest() {
    const memory = Number(ui.memory.value);
    const timeout = Number(ui.timeout.value);
    if (!(memory > 0)) throw new Error("Memory: give a number of MiB, like 128");
    if (!(timeout > 0)) throw new Error("Timeout: give a number of seconds, like 10");
    return {
      code: ui.code.value,
      language: ui.language.value,
      stdin: ui.stdin.value || null,
      memory: `${Math.round(memory)}m`,
      timeout,
      network: ui.network.checked,
      read_only: ui.readOnly.checked,
    };
  }

  function setRunning(running) {
    ui.run.disabled = running;
    ui.stop.disabled = !running;
    document.body.classList.toggle("running", running);
  }

  function tick() {
    if (!current || current.ended || current.startedAt === undefined) return;
    if (!current.statsTime) ui.time.textContent = formatSeconds((performance.now() - current.startedAt) / 1000);
  }

  async function startRun() {
    if (current && !current.ended) {
      ui.status.textContent = "already running: stop it first (esc)";
      return;
    }
    clearMessage();
    let body;
    try { body = readRequest(); } catch (err) { showMessage(err.message); return; }

    const run = {id: null, controller: new AbortController(), ended: false, stopping: false, limits: null};
    current = run;
    pending = [];
    ui.output.textContent = "";
    resetStats();
    setRunning(true);
    setVerdict("sending", "SENDING", "Asking the server for a container…");
    ui.verdict.dataset.container = "";
    ui.status.textContent = "";

    let response;
    try {
      response = await fetch("runs", {
        method: "POST",
        headers: headers({"Content-Type": "application/json", Accept: "application/x-ndjson"}),
        body: JSON.stringify(body),
        signal: run.controller.signal,
      });
    } catch (err) {
      endRun(run);
      if (run.stopping) return showCancelledLocally();
      setVerdict("failed", "NO SERVER", "The server did not answer.", String(err.message || err));
      return;
    }

    if (!response.ok) {
      const error = await describeError(response);
      endRun(run);
      if (error.status === 401) {
        retryAfterToken = true;
        setVerdict("idle", "TOKEN", "This server asks for a token: paste yours above, then run again.");
        showMessage(error.text, "Paste your token in the field above.");
        askForToken();
        return;
      }
      setVerdict("failed", "REFUSED", `Not taken (${error.status}): see the message above.`);
      showMessage(error.text, error.fix);
      return;
    }
    ui.auth.hidden = true;
    run.id = response.headers.get("X-Run-Id") || null;

    let lost = "";
    try {
      await tuiSandbox.readEvents(response, (event) => handleEvent(event, run));
    } catch (err) {
      lost = String(err.message || err);       // aborted by Stop, or the connection broke
    }
    if (!run.finished && current === run) {
      if (run.stopping) showCancelledLocally();
      else setVerdict("failed", "LOST", "The connection ended before the run did.", lost);
    }
    endRun(run);
  }

  function handleEvent(ev, run) {
    if (current !== run) return;
    if (ev.id && !run.id) run.id = ev.id;
    switch (ev.event) {
      case "queued": {
        const line = ev.message ||
          (ev.position ? `queued: ${ordinal(ev.position)} in line, ${ev.running}/${ev.cap} running` : "queued");
        setVerdict("queued", "QUEUED", line);
        break;
      }
      case "started":
        run.limits = ev.limits || run.limits;
        ui.verdict.dataset.container = ev.container_id || "";
        run.startedAt = performance.now();
        run.timer = setInterval(tick, 100);
        setVerdict("running", "RUNNING",
                   [ev.language, ev.runtime, ev.container_id && `container ${ev.container_id.slice(0, 12)}`]
                     .filter(Boolean).join(" · "),
                   describeLimits(ev.limits || {}));
        break;
      case "phase":
        if (ev.name === "compiling") ui.word.textContent = "COMPILING";
        else if (ui.verdict.dataset.verdict === "running") ui.word.textContent = "RUNNING";
        break;
      case "output":
        appendOutput(ev.stream, ev.text);
        break;
      case "stats":
        run.statsTime = true;
        showStats(ev, run.limits);
        if (ev.reading_input !== undefined && !run.stopping) {
          ui.status.textContent = ev.reading_input ? "the program is waiting for input (stdin)" : "";
        }
        break;
      case "blocked":
        showWall(ev, run);
        break;
      case "finished":
        run.finished = true;
        flushOutput();
        for (const wall of ev.blocked || []) showWall(wall, run);   // the final counts
        if (ev.blocked === null) outputNotice(`walls not observable under ${ev.runtime}`);
        showResult(ev, run);
        endRun(run);
        break;
      case "failed":
        run.finished = true;
        flushOutput();
        setVerdict("failed", "FAILED", ev.error || "The sandbox could not run the program.", ev.fix || "");
        ui.status.textContent = "";
        endRun(run);
        break;
      default:
        break;
    }
  }

  function describeLimits(limits) {
    const parts = [];
    if (limits.memory_bytes) parts.push(formatSize(limits.memory_bytes));
    if (limits.timeout_s) parts.push(`${limits.timeout_s} s`);
    if (limits.network !== undefined) parts.push(limits.network ? "network on" : "no network");
    if (limits.read_only !== undefined) parts.push(limits.read_only ? "read-only" : "writable");
    return parts.filter(Boolean).join(" · ");
  }

  function showResult(result, run) {
    const verdict = result.verdict || "error";
    let word = WORDS[verdict] || verdict.toUpperCase().replace(/_/g, " ");
    if (verdict === "error" && result.exit_code !== null && result.exit_code !== undefined) {
      word += ` (exit ${result.exit_code})`;
    } else if (verdict === "signal" && result.signal) {
      word += ` (${result.signal})`;
    }
    const figures = [];
    if (typeof result.duration_s === "number") figures.push(formatSeconds(result.duration_s));
    if (result.peak_memory_bytes) figures.push(`peak ${formatSize(result.peak_memory_bytes)}`);
    if (typeof result.cpu_seconds === "number") figures.push(`CPU ${formatSeconds(result.cpu_seconds)}`);
    // As the engine's figures() says it (runner/verdicts.py): from 0.05 s, not the scheduler's noise.
    if (typeof result.cpu_throttled_s === "number" && result.cpu_throttled_s >= 0.05) {
      figures.push(`held back ${formatSeconds(result.cpu_throttled_s)} by the CPU limit`);
    }
    if (result.runtime) figures.push(result.runtime);
    setVerdict(verdict, word, result.kill_reason || "", figures.join(" · "));
    ui.status.textContent = "";
    if (result.truncated) outputNotice("[output cut off at the output limit]");
    if (typeof result.duration_s === "number") ui.time.textContent = formatSeconds(result.duration_s);
    if (result.peak_memory_bytes && run.limits && run.limits.memory_bytes) {
      // Leave the peak on the memory meter: what the room wants to see after an OOM.
      showStats({memory_bytes: result.peak_memory_bytes}, run.limits);
      ui.memoryText.textContent = `peak ${ui.memoryText.textContent}`;
    }
  }

  function showCancelledLocally() {
    flushOutput();
    setVerdict("cancelled", "CANCELLED", "Stopped on request before it finished");
    ui.status.textContent = "";
  }

  function endRun(run) {
    if (run.ended) return;
    run.ended = true;
    clearInterval(run.timer);
    if (current === run) setRunning(false);
    loadHealth();
  }

  async function stopRun() {
    const run = current;
    if (!run || run.ended || run.stopping) return;
    run.stopping = true;
    ui.stop.disabled = true;
    ui.status.textContent = "stopping…";
    if (run.id) {
      try {
        const response = await fetch(`runs/${encodeURIComponent(run.id)}`, {method: "DELETE", headers: headers()});
        if (response.ok || response.status === 409) return;   // the stream brings the CANCELLED verdict
      } catch { /* fall through: closing the stream cancels the run too */ }
    }
    // No id yet, or the DELETE failed: closing the stream makes the server cancel the run.
    run.controller.abort();
  }

  // --- the code box: tab indents, enter keeps the indentation ------------------------------

  let escaped = false;

  function insert(text) {
    ui.code.focus();
    // execCommand keeps the browser's undo history; setRangeText where it is gone.
    if (!document.execCommand || !document.execCommand("insertText", false, text)) {
      ui.code.setRangeText(text, ui.code.selectionStart, ui.code.selectionEnd, "end");
    }
  }

  ui.code.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { escaped = true; return; }
    if (ev.key === "Tab" && !ev.ctrlKey && !ev.altKey && !ev.metaKey) {
      if (escaped) { escaped = false; return; }   // esc, then tab: leave the box
      ev.preventDefault();
      if (!ev.shiftKey) insert("    ");
      return;
    }
    escaped = false;
    if (ev.key === "Enter" && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey && !ev.altKey) {
      const before = ui.code.value.slice(0, ui.code.selectionStart);
      const line = before.slice(before.lastIndexOf("\n") + 1);
      let indent = line.match(/^[ \t]*/)[0];
      if (/[:{([]\s*$/.test(line)) indent += "    ";
      ev.preventDefault();
      insert(`\n${indent}`);
    }
  });

  // --- keys for the whole page ------------------------------------------------------------

  document.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      startRun();
    } else if (ev.key === "Escape" && current && !current.ended) {
      ev.preventDefault();
      stopRun();
    }
  });

  ui.form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    startRun();
  });
  ui.stop.addEventListener("click", stopRun);

  ui.authForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const token = ui.token.value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    ui.auth.hidden = true;
    clearMessage();
    loadLanguages();
    if (retryAfterToken) {
      retryAfterToken = false;
      startRun();
    }
  });

  // --- the pickers --------------------------------------------------------------------------

  let examples = [];

  ui.example.addEventListener("change", () => {
    const example = examples[Number(ui.example.value)];
    if (!example) { ui.exampleNote.textContent = ""; return; }
    if (![...ui.language.options].some((o) => o.value === example.language)) {
      ui.language.append(new Option(example.language, example.language));
    }
    ui.language.value = example.language;
    ui.code.value = example.source;
    ui.exampleNote.textContent = `· ${example.title}: ${example.expect}`;
    ui.code.focus();
    ui.code.setSelectionRange(0, 0);
    ui.code.scrollTop = 0;
  });

  ui.code.addEventListener("input", () => {
    if (ui.example.value) ui.exampleNote.textContent = "· edited";
  });

  async function loadExamples() {
    try {
      const response = await fetch("ui/examples.json");
      if (!response.ok) return;
      examples = await response.json();
    } catch { return; }
    const groups = new Map();
    examples.forEach((example, index) => {
      if (!groups.has(example.language)) {
        const group = document.createElement("optgroup");
        group.label = example.language;
        groups.set(example.language, group);
        ui.example.append(group);
      }
      groups.get(example.language).append(new Option(example.title, String(index)));
    });
  }

  async function loadLanguages() {
    let response;
    try {
      response = await fetch("languages", {headers: headers()});
    } catch { return; }
    if (response.status === 401) {
      showMessage("This server asks for a token.", "Paste your token in the field above.");
      askForToken();
      return;
    }
    if (!response.ok) return;
    const body = await response.json();
    const list = Array.isArray(body) ? body : (body.languages || Object.keys(body));
    const names = list.map((entry) => (typeof entry === "string" ? entry : entry.name || entry.language))
      .filter(Boolean);
    if (!names.length) return;
    const chosen = ui.language.value;
    ui.language.textContent = "";
    for (const entry of list) {
      const name = typeof entry === "string" ? entry : entry.name || entry.language;
      if (!name) continue;
      const version = typeof entry === "object" && entry.version ? ` ${entry.version}` : "";
      ui.language.append(new Option(`${name}${version}`, name));
    }
    ui.language.value = names.includes(chosen) ? chosen : names[0];
  }

  // The engine and the queue, in the top bar; the ceilings bound the limit inputs.
  async function loadHealth() {
    let response, body;
    try {
      response = await fetch("health", {headers: headers()});
      body = await response.json();
    } catch { ui.server.textContent = "server: no answer"; return; }
    if (!body || !body.queue) return;
    const engine = body.engine || {};
    const cap = body.queue.cap;
    ui.server.textContent = `${engine.name || "no engine"} · ${cap} container${cap === 1 ? "" : "s"} at once`;
    if (!engine.reachable) {
      showMessage(`No sandbox engine: ${engine.error || "it does not answer"}`, engine.fix || "");
    } else if (body.images && Object.values(body.images).some((built) => !built)) {
      const missing = Object.entries(body.images).filter(([, built]) => !built).map(([name]) => name);
      ui.server.textContent += ` · not built: ${missing.join(", ")}`;
    }
    const ceilings = body.ceilings || {};
    // Said, not enforced here: over a ceiling, the server's refusal explains itself.
    if (ceilings.memory_bytes) ui.memory.title = `at most ${formatSize(ceilings.memory_bytes)} on this server`;
    if (ceilings.timeout_s) ui.timeout.title = `at most ${ceilings.timeout_s} s on this server`;
    if (ceilings.network === false) {
      ui.network.checked = false;
      ui.network.disabled = true;
      ui.network.closest("label").title = "This server does not allow the network.";
    }
  }

  setRunning(false);
  loadExamples();
  loadLanguages();
  loadHealth();
})();
