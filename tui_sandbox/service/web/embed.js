/* tui-sandbox's embed: runnable examples on any page, from the server that serves this file.
 *
 *   <pre data-tui-sandbox="python" data-timeout="5">print("hello")</pre>
 *   <script src="http://HOST:8000/embed.js" defer></script>
 *
 * Each marked block becomes an editable program with Run and Stop; its output streams in as
 * it comes (POST /runs), a line typed while it runs goes to its standard input, and the end
 * says the verdict and why, with the walls the sandbox stopped it at. Attributes choose the
 * language (data-tui-sandbox: python, javascript, bash, c) and the limits within the server's
 * ceilings: data-memory ("64m"), data-cpus, data-pids, data-timeout (seconds), data-network
 * ("on"), data-read-only ("off"), data-stdin (given before anything typed).
 *
 * The page's origin must be one the server lets in (serve --cors-origin ORIGIN), and a public
 * page's server runs without tokens (serve --public --rate N/minute). Nothing comes from
 * anywhere else: no CDN, no font. The program's output is shown as text, never as HTML. */
(() => {
  "use strict";
  const self = document.currentScript || [...document.scripts].find((s) => /\/embed\.js(\?|$)/.test(s.src));
  const server = new URL(".", self ? self.src : location.href).href;      // behind a proxy's prefix too
  const LIMITS = {memory: "memory", cpus: "cpus", pids: "pids", timeout: "timeout"};
  const {describeWall, readEvents} = window.tuiSandbox;       // stream.js, served in front of this

  // Its look comes from the server too (a file, not an inline style: a page's CSP may forbid those).
  function addStyle() {
    if (document.getElementById("tsb-style")) return;
    const link = document.createElement("link");
    link.id = "tsb-style";
    link.rel = "stylesheet";
    link.href = `${server}embed.css`;
    document.head.appendChild(link);
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function errorOf(response) {
    try {
      const body = await response.json();
      return [body.error || body.message || response.statusText, body.fix].filter(Boolean).join(" · ");
    } catch (_) {
      return `${response.status} ${response.statusText}`;
    }
  }

  function runner(block) {
    const language = block.dataset.tuiSandbox || "python";
    const box = element("div", "tsb");
    box.dataset.language = language;
    const code = element("textarea", "tsb-code");
    code.value = block.textContent.replace(/^\n/, "").replace(/\s+$/, "") + "\n";
    code.rows = Math.min(20, code.value.split("\n").length);
    code.spellcheck = false;
    code.setAttribute("aria-label", `${language} program`);
    const bar = element("div", "tsb-bar");
    const run = element("button", "tsb-run", "Run");
    const stop = element("button", "tsb-stop", "Stop");
    stop.disabled = true;
    const note = element("span", "tsb-note", describeAsked(block, language));
    bar.append(run, stop, note);
    const out = element("pre", "tsb-out");
    out.setAttribute("aria-live", "polite");
    const inputRow = element("form", "tsb-input");
    const input = element("input");
    input.placeholder = "type a line for the program, then Enter";
    const eof = element("button", "", "End input");
    eof.type = "button";
    inputRow.append(input, eof);
    inputRow.hidden = true;
    const verdict = element("div", "tsb-verdict", "Not run yet");
    box.append(code, bar, out, inputRow, verdict);
    block.replaceWith(box);

    let current = null;
    run.addEventListener("click", () => start());
    stop.addEventListener("click", () => current && current.stop());
    code.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); start(); }
    });
    inputRow.addEventListener("submit", (e) => {
      e.preventDefault();
      if (current) current.send({text: input.value + "\n"}, input.value + "\n");
      input.value = "";
    });
    eof.addEventListener("click", () => current && current.send({eof: true}, ""));

    function say(kind, word, text) {
      verdict.dataset.verdict = kind;
      verdict.textContent = text ? `${word}: ${text}` : word;
    }

    function append(text, className) {
      const span = element("span", className, text);
      out.appendChild(span);
      out.scrollTop = out.scrollHeight;
      return span;
    }

    async function start() {
      if (current) return;
      out.textContent = "";
      const walls = new Map();
      const state = {id: null, limits: {}, ended: false, controller: new AbortController()};
      current = state;
      state.stop = async () => {
        stop.disabled = true;
        if (state.id) {
          try {
            const answer = await fetch(`${server}runs/${encodeURIComponent(state.id)}`, {method: "DELETE"});
            if (answer.ok) return;                   // the stream says cancelled
          } catch (_) { /* the stream's close cancels it too */ }
        }
        state.controller.abort();
      };
      state.send = async (body, echo) => {
        if (!state.id) return;
        if (echo) append(echo, "tsb-dim");
        const answer = await fetch(`${server}runs/${encodeURIComponent(state.id)}/input`, {
          method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
        if (!answer.ok) append(`(input not taken: ${await errorOf(answer)})\n`, "tsb-err");
        if (body.eof) inputRow.hidden = true;
      };
      run.disabled = true;
      stop.disabled = false;
      say("queued", "Sending");
      try {
        const response = await fetch(`${server}runs`, {
          method: "POST", headers: {"Content-Type": "application/json"}, signal: state.controller.signal,
          body: JSON.stringify(request(block, language, code.value))});
        if (!response.ok) {
          say("refused", `Not run (${response.status})`, await errorOf(response));
          return;
        }
        state.id = response.headers.get("X-Run-Id");
        inputRow.hidden = false;
        await readEvents(response, (event) => handle(event, state, walls));
        if (!state.ended) say("error", "Lost", "the connection ended before the run did");
      } catch (error) {
        if (!state.ended) {
          say(state.controller.signal.aborted ? "cancelled" : "refused",
              state.controller.signal.aborted ? "Stopped" : "Not run", state.controller.signal.aborted ? "" :
              `the server at ${server} did not answer (${error.message || error})`);
        }
      } finally {
        current = null;
        run.disabled = false;
        stop.disabled = true;
        inputRow.hidden = true;
      }
    }

    function handle(event, state, walls) {
      if (event.id && !state.id) state.id = event.id;
      switch (event.event) {
        case "queued":
          say("queued", "Waiting", event.position ? `${event.position} in line` : "");
          break;
        case "started":
          state.limits = event.limits || {};
          say("running", "Running", [event.language, event.runtime].filter(Boolean).join(" · "));
          break;
        case "phase":
          if (event.name === "compiling") say("running", "Compiling");
          else say("running", "Running");
          break;
        case "output":
          append(event.text, event.stream === "stderr" ? "tsb-err" : "");
          break;
        case "blocked":
          showWall(event, state, walls);
          break;
        case "finished": {
          state.ended = true;
          for (const wall of event.blocked || []) showWall(wall, state, walls);
          if (event.blocked === null) append(`— walls not observable under ${event.runtime} —\n`, "tsb-dim");
          const figures = [`${Number(event.duration_s || 0).toFixed(2)} s`];
          if (event.blocked && event.blocked.length) figures.push(`${event.blocked.length} wall(s) hit`);
          say(event.verdict, String(event.verdict || "").toUpperCase(),
              `${event.kill_reason || ""} · ${figures.join(" · ")}`);
          break;
        }
        case "failed":
          state.ended = true;
          say("error", "Failed", [event.error, event.fix].filter(Boolean).join(" · "));
          break;
        default:
          break;
      }
    }

    function showWall(wall, state, walls) {
      const key = [wall.kind, wall.call, wall.target, wall.errno].join("\u0000");
      const text = describeWall(wall, state.limits) + "\n";
      const known = walls.get(key);
      if (known && known.isConnected) known.textContent = text;
      else walls.set(key, append(text, "tsb-wall"));
    }
  }

  function describeAsked(block, language) {
    const asked = [language];
    for (const [attribute, name] of Object.entries(LIMITS)) {
      const value = block.dataset[attribute];
      if (value) asked.push(`${name} ${value}`);
    }
    if (block.dataset.network) asked.push(`network ${block.dataset.network}`);
    if (block.dataset.readOnly) asked.push(`read-only ${block.dataset.readOnly}`);
    return asked.join(" · ") + " · Ctrl+Enter runs";
  }

  function request(block, language, source) {
    const body = {code: source, language, interactive: true};
    for (const [attribute, name] of Object.entries(LIMITS)) {
      const value = block.dataset[attribute];
      if (value) body[name] = /^[0-9.]+$/.test(value) && name !== "memory" ? Number(value) : value;
    }
    const yes = (value) => /^(on|true|yes|1)$/i.test(value || "");
    if (block.dataset.network) body.network = yes(block.dataset.network);
    if (block.dataset.readOnly) body.read_only = yes(block.dataset.readOnly);
    if (block.dataset.stdin) body.stdin = block.dataset.stdin;
    return body;
  }

  function init() {
    const blocks = document.querySelectorAll("[data-tui-sandbox]");
    if (!blocks.length) return;
    addStyle();
    blocks.forEach(runner);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
