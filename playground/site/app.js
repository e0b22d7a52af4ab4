// pghba playground: the page. The Go engine runs in two Web Workers
// (worker.js): one answers the fast questions (view rows, errors, decision,
// trace), the other lint and exposure, which can take much longer on big
// files. Nothing is debounced: each worker has at most one request in flight,
// and edits made meanwhile are coalesced into the next one. A worker busy for
// longer than WATCHDOG_MS is terminated and restarted, so no input can hang
// the page.
"use strict";

const MAIN = "pg_hba.conf";
const IDENT = "pg_ident.conf";
const LINT_DOC = "https://github.com/pghba/pghba/blob/main/docs/lint.md#checks";
// WATCHDOG_MS: ?watchdog=MS overrides it (the browser test uses a tiny one).
const WATCHDOG_MS = Number(new URLSearchParams(location.search).get("watchdog")) || 20000;
const MAX_ROWS = 2000; // table rows and error marks rendered
const MAX_SHARE = 2 << 20; // state JSON bytes beyond which no share link is made
const FEATURES = ["ssl", "gssapi", "ldap", "pam", "bsd", "sspi"];

const $ = (id) => document.getElementById(id);
const el = (tag, props, ...kids) => {
  const e = document.createElement(tag);
  if (props) for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const k of kids) e.append(k);
  return e;
};

const SAMPLE = {
  version: 18, ssl: false, missing: "bsd,sspi",
  files: {
    [MAIN]: [
      "# TYPE  DATABASE        USER            ADDRESS                 METHOD",
      "local   all             postgres                                peer",
      "local   all             all                                     peer map=local",
      "host    all             all             127.0.0.1/32            scram-sha-256",
      "host    sales           +sales_team     10.0.0.0/8              scram-sha-256",
      "host    all             /^admin         192.168.0.0/16          md5",
      "hostssl replication     replicator      10.0.0.0/8              scram-sha-256",
      "host    all             all             0.0.0.0/0               reject",
      "",
    ].join("\n"),
    [IDENT]: "# MAPNAME  SYSTEM-USERNAME  PG-USERNAME\nlocal      /^(.*)$          \\1\n",
  },
  roles: { alice: ["sales_team"] },
  conn: { type: "host", addr: "10.1.2.3", ssl: false, gss: false, db: "sales", user: "alice", replication: "" },
};

// ---- state ----------------------------------------------------------------

let files = {}; // name -> text; pg_hba.conf and pg_ident.conf always present
let current = MAIN;
let highlight = null; // {file, line}
let lastResult = null;
let lastAudit = null;

function readState() {
  const st = {
    version: Number($("version").value),
    ssl: $("server-ssl").checked,
    missing: FEATURES.filter((f) => !$("feat-" + f).checked).join(","),
    files: {},
    conn: {
      type: $("conn-type").value,
      ssl: $("conn-ssl").checked,
      gss: $("conn-gss").checked,
      db: $("conn-db").value,
      user: $("conn-user").value,
      replication: $("conn-replication").value,
    },
  };
  const minor = Number($("minor").value);
  if (Number.isInteger(minor) && minor > 0) st.minor = minor;
  if (st.conn.type === "host") st.conn.addr = $("conn-addr").value;
  const sys = $("conn-system-user").value;
  if (sys !== "") st.conn.system_user = sys;
  for (const [name, text] of Object.entries(files)) {
    if (name === IDENT && text === "") continue; // an empty ident tab is no file
    st.files[name] = text;
  }
  const roles = parseRoles($("roles").value);
  if (roles) st.roles = roles;
  return st;
}

// parseRoles reads "role: group, group" lines; null when there are none.
function parseRoles(text) {
  const g = {};
  let any = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const i = line.indexOf(":");
    const role = (i < 0 ? line : line.slice(0, i)).trim();
    if (role === "") continue;
    const groups = i < 0 ? [] : line.slice(i + 1).split(",").map((s) => s.trim()).filter((s) => s !== "");
    g[role] = (g[role] || []).concat(groups);
    any = true;
  }
  return any ? g : null;
}

function formatRoles(roles) {
  if (!roles) return "";
  return Object.entries(roles).map(([r, gs]) => r + ": " + gs.join(", ")).join("\n");
}

// applyState puts a validated state into the form.
function applyState(st) {
  $("version").value = String(st.version);
  $("minor").value = String(st.minor || 0);
  $("server-ssl").checked = !!st.ssl;
  const missing = (st.missing === undefined ? "bsd,sspi" : st.missing).split(",").map((s) => s.trim());
  for (const f of FEATURES) $("feat-" + f).checked = !missing.includes(f);
  files = { [MAIN]: "", [IDENT]: "" };
  filesGen++;
  for (const [name, text] of Object.entries(st.files)) files[name] = text;
  const c = st.conn || {};
  $("conn-type").value = c.type === "local" ? "local" : "host";
  $("conn-addr").value = c.addr || "";
  $("conn-ssl").checked = !!c.ssl;
  $("conn-gss").checked = !!c.gss;
  $("conn-db").value = c.db || "";
  $("conn-user").value = c.user || "";
  $("conn-replication").value = c.replication || "";
  $("conn-system-user").value = c.system_user || "";
  $("roles").value = formatRoles(st.roles);
  highlight = null;
  current = MAIN;
  renderTabs();
  showFile();
  connTypeChanged();
}

// validState checks a decoded share link; it returns an error text or "".
function validState(st) {
  if (st === null || typeof st !== "object" || Array.isArray(st)) return "the state is not a JSON object";
  if (!Number.isInteger(st.version) || st.version < 13 || st.version > 18) return '"version" must be 13 to 18';
  if (st.minor !== undefined && (!Number.isInteger(st.minor) || st.minor < 0)) return '"minor" must be a whole number';
  if (st.ssl !== undefined && typeof st.ssl !== "boolean") return '"ssl" must be true or false';
  if (st.missing !== undefined && typeof st.missing !== "string") return '"missing" must be a string';
  if (st.files === null || typeof st.files !== "object" || Array.isArray(st.files)) return '"files" must be an object';
  if (typeof st.files[MAIN] !== "string") return '"files" has no "pg_hba.conf" text';
  for (const [k, v] of Object.entries(st.files)) {
    if (typeof v !== "string") return '"files"["' + k + '"] is not text';
    if (!validName(k)) return 'file name "' + k + '" is not a relative path';
  }
  if (st.roles !== undefined) {
    if (st.roles === null || typeof st.roles !== "object" || Array.isArray(st.roles)) return '"roles" must be an object';
    for (const v of Object.values(st.roles)) if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) return '"roles" values must be lists of role names';
  }
  if (st.conn !== undefined) {
    const c = st.conn;
    if (c === null || typeof c !== "object" || Array.isArray(c)) return '"conn" must be an object';
    for (const k of ["type", "addr", "db", "user", "replication", "system_user"]) if (c[k] !== undefined && typeof c[k] !== "string") return '"conn"."' + k + '" must be a string';
    for (const k of ["ssl", "gss"]) if (c[k] !== undefined && typeof c[k] !== "boolean") return '"conn"."' + k + '" must be true or false';
  }
  return "";
}

function validName(n) {
  return n !== "" && !n.startsWith("/") && !n.endsWith("/") && n.split("/").every((p) => p !== "" && p !== "." && p !== "..");
}

// ---- share links ----------------------------------------------------------

function b64urlEncode(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function b64urlDecode(text) {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) throw new Error("not base64url");
  text = text.replace(/=+$/, "");
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function pipe(bytes, stream) {
  const resp = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await resp.arrayBuffer());
}

async function encodeLink(st) {
  let size = 0;
  for (const v of Object.values(st.files)) size += v.length;
  if (size > MAX_SHARE) return null; // the JSON is at least as long
  const json = new TextEncoder().encode(JSON.stringify(st));
  if (json.length > MAX_SHARE) return null;
  return "#z=" + b64urlEncode(await pipe(json, new CompressionStream("deflate-raw")));
}

// decodeLink returns {state} or {error}; null when the fragment is no link.
async function decodeLink(hash) {
  const m = /^#([sz])=(.*)$/s.exec(hash);
  if (!m) return null;
  try {
    let bytes = b64urlDecode(m[2]);
    if (m[1] === "z") bytes = await pipe(bytes, new DecompressionStream("deflate-raw"));
    const st = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    const bad = validState(st);
    return bad ? { error: bad } : { state: st };
  } catch (err) {
    return { error: (m[1] === "z" ? "the #z= data does not decompress or is not JSON" : "the #s= data is not base64url JSON") + " (" + err.message + ")" };
  }
}

let shareTimer = 0;
let shareSeq = 0;
function scheduleShare() {
  clearTimeout(shareTimer);
  shareTimer = setTimeout(async () => {
    const seq = ++shareSeq;
    const link = await encodeLink(readState());
    if (seq !== shareSeq) return;
    if (link === null) {
      $("share-link").value = "";
      $("share-status").textContent = "too large for a share link";
      history.replaceState(null, "", location.pathname + location.search);
      return;
    }
    history.replaceState(null, "", link);
    $("share-link").value = location.href;
    $("share-status").textContent = "";
  }, 300);
}

// ---- workers --------------------------------------------------------------

let wasmModule = null;

class Engine {
  constructor(kind, onResult) {
    this.kind = kind;
    this.onResult = onResult;
    this.worker = null;
    this.busy = false;
    this.pending = null; // {state, inputAt}
    this.seq = 0;
    this.watchdog = 0;
    this.start();
  }
  start() {
    this.worker = new Worker("worker.js");
    this.ready = false;
    this.worker.onmessage = (e) => this.message(e.data);
    this.worker.onerror = (e) => engineStatus("engine error: " + (e.message || "worker failed"), true);
    this.worker.postMessage({ init: wasmModule });
  }
  // submit queues the latest state; only the newest pending one is sent.
  submit(state, inputAt) {
    this.pending = { state, inputAt };
    this.pump();
  }
  pump() {
    if (!this.ready || this.busy || !this.pending) return;
    const p = this.pending;
    this.pending = null;
    this.busy = true;
    this.inflight = { id: ++this.seq, inputAt: p.inputAt, sentAt: performance.now() };
    this.worker.postMessage({ id: this.seq, kind: this.kind, state: p.state });
    this.watchdog = setTimeout(() => this.timeout(p.state), WATCHDOG_MS);
  }
  message(m) {
    if (m.fatal) { engineStatus("the WebAssembly engine did not start: " + m.fatal, true); return; }
    if (m.ready) { this.ready = true; this.pump(); return; }
    clearTimeout(this.watchdog);
    this.busy = false;
    const f = this.inflight;
    let res;
    try { res = JSON.parse(m.json); } catch (err) { res = { error: "engine answer: " + err.message }; }
    this.onResult(res, { inputAt: f.inputAt, workerMs: m.ms, superseded: this.pending !== null });
    this.pump();
  }
  timeout(state) {
    this.worker.terminate();
    this.busy = false;
    stats.restarts++;
    this.onResult({ error: this.kind + " took longer than " + WATCHDOG_MS / 1000 + " s and was stopped", timedOut: true }, { inputAt: this.inflight.inputAt, workerMs: WATCHDOG_MS });
    this.start();
  }
}

let core, audit;
let lastAuditKey = "";
let filesGen = 0; // bumped on every change to the files, so that audit keys stay cheap
// stats are for tests and the curious: timings, the longest main-thread
// task seen (Long Tasks API, where supported) and uncaught script errors.
const stats = { firstResultMs: null, lastInputToResultMs: null, lastWorkerMs: null, lastGoMicros: null, lastAuditMs: null, results: 0, longestTaskMs: 0, restarts: 0, errors: [] };
window.pghbaStats = stats;
window.addEventListener("error", (e) => { stats.errors.push(String(e.message)); engineStatus("page error: " + e.message, true); });
window.addEventListener("unhandledrejection", (e) => { stats.errors.push(String(e.reason)); });
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) stats.longestTaskMs = Math.max(stats.longestTaskMs, e.duration);
  }).observe({ type: "longtask", buffered: false });
} catch { /* no Long Tasks API */ }

function engineStatus(text, bad) {
  const s = $("engine-status");
  s.textContent = text;
  s.classList.toggle("bad", !!bad);
  s.hidden = text === "";
}

// changed is called on every edit of anything. The core engine gets every
// state at once; lint and exposure, which are slower and do not depend on the
// connection, wait for AUDIT_DELAY_MS without edits so that they do not
// compete with the core engine for the processor while someone types.
const AUDIT_DELAY_MS = 200;
let auditTimer = 0;
function changed(inputAt) {
  const st = readState();
  // Busy from the edit on, until a result with nothing newer pending is
  // rendered: a test (or a script) that sees busy false after its last
  // keystroke reads the answer to exactly what it typed.
  document.body.dataset.busy = "true";
  core.submit(st, inputAt);
  clearTimeout(auditTimer);
  auditTimer = setTimeout(() => {
    const st = readState();
    const key = JSON.stringify([st.version, st.minor, st.ssl, st.missing, st.roles, filesGen]);
    if (key !== lastAuditKey) {
      lastAuditKey = key;
      audit.submit(st, inputAt);
    }
  }, lastAuditKey === "" ? 0 : AUDIT_DELAY_MS);
  scheduleShare();
}

// ---- rendering ------------------------------------------------------------

function onCore(res, info) {
  lastResult = res;
  const t0 = performance.now();
  renderCore(res);
  const now = performance.now();
  stats.lastRenderMs = now - t0;
  stats.results++;
  if (stats.firstResultMs === null) stats.firstResultMs = now;
  if (info.inputAt !== null) stats.lastInputToResultMs = now - info.inputAt;
  stats.lastWorkerMs = info.workerMs;
  stats.lastGoMicros = res.micros || 0;
  document.body.dataset.ready = "true";
  document.body.dataset.busy = info.superseded ? "true" : "false";
  document.body.dataset.seq = String(Number(document.body.dataset.seq) + 1);
  engineStatus(res.error ? res.error : "", !!res.error);
}

function onAudit(res, info) {
  lastAudit = res;
  stats.lastAuditMs = info.workerMs;
  renderAudit(res);
  document.body.dataset.auditBusy = info.superseded ? "true" : "false";
  document.body.dataset.auditSeq = String(Number(document.body.dataset.auditSeq) + 1);
}

function ref(file, line) { return file + ":" + line; }

function renderCore(res) {
  renderDecision(res);
  renderTrace(res);
  renderErrors(res);
  renderTable($("rules"), res.columns || [], res.rows || [], res.rowsTotal || 0, "rules-note");
  renderTable($("ident-rules"), res.identColumns || [], res.identRows || [], 0, null);
  $("ident-note").textContent = !res.identColumns ? "no pg_ident.conf" :
    res.version < 15 ? "PostgreSQL " + res.version + " has no pg_ident_file_mappings view; the lines as 15 would show them" : "";
  renderTabs();
  renderMarks();
}

function renderDecision(res) {
  const d = $("decision");
  const dec = res.decision || { outcome: "not-loaded", message: res.error || "" };
  d.dataset.outcome = res.error ? "invalid" : dec.outcome;
  d.dataset.line = dec.file ? ref(dec.file, dec.line) : "";
  let text;
  switch (d.dataset.outcome) {
    case "matched":
      text = "matched " + ref(dec.file, dec.line) + ": method " + dec.method + (dec.options && dec.options.length ? " (" + dec.options.join(", ") + ")" : "") + "\n" + dec.raw;
      break;
    case "rejected":
      text = "rejected by " + ref(dec.file, dec.line) + "\nFATAL:  " + dec.message;
      break;
    case "no-entry":
      text = "no rule matches\nFATAL:  " + dec.message;
      break;
    case "unresolved":
      text = "unresolved at " + ref(dec.file, dec.line) + " (refused)\n" + dec.message;
      break;
    default:
      text = (d.dataset.outcome === "not-loaded" ? "not loaded: " : "") + (dec.message || res.error || "");
  }
  d.textContent = text;
  const ir = $("ident-result");
  ir.textContent = "";
  if (res.ident) {
    const i = res.ident;
    ir.dataset.outcome = i.outcome;
    ir.textContent = "user name map" + (i.map ? ' "' + i.map + '"' : "") + ": " + i.outcome + (i.file ? " at " + ref(i.file, i.line) : "") + (i.message ? "\n" + i.message : "");
  } else {
    delete ir.dataset.outcome;
  }
}

function traceItem(file, line, text, cls) {
  const b = el("button", { type: "button", text, "data-file": file, "data-line": String(line) });
  b.addEventListener("click", () => highlightLine(file, line));
  return el("li", cls ? { class: cls } : null, b);
}

function renderTrace(res) {
  const items = [];
  const steps = res.trace || [];
  for (let i = 0; i < steps.length && i < MAX_ROWS; i++) {
    const s = steps[i];
    items.push({ file: s.file, line: s.line, text: ref(s.file, s.line) + "  " + s.column + ": " + s.reason, cls: "" });
  }
  const total = Math.max(res.traceTotal || 0, steps.length);
  if (total > MAX_ROWS) items.push({ text: "… " + (total - MAX_ROWS) + " more rules that do not match" });
  const dec = res.decision;
  if (dec && dec.file) items.push({ file: dec.file, line: dec.line, text: ref(dec.file, dec.line) + "  decides: " + dec.outcome + (dec.method ? " (" + dec.method + ")" : ""), cls: "deciding" });
  patch($("trace"), items, (it) => it.file + "\u0000" + it.line + "\u0000" + it.cls + "\u0000" + it.text,
    (it) => (it.file ? traceItem(it.file, it.line, it.text, it.cls) : el("li", { text: it.text })));
}

function allErrors(res) {
  return (res.errors || []).concat(res.identErrors || []);
}

function renderErrors(res) {
  const ul = $("errors");
  ul.replaceChildren();
  const errs = allErrors(res);
  const frag = document.createDocumentFragment();
  for (const e of errs.slice(0, MAX_ROWS)) {
    const li = el("li", { "data-error-line": String(e.line), "data-file": e.file });
    const b = el("button", { type: "button", class: "linkish", text: ref(e.file, e.line) });
    b.addEventListener("click", () => highlightLine(e.file, e.line));
    li.append(b, " " + e.message + (e.logOnly ? " (server log only)" : ""));
    if (e.log) li.append(el("span", { class: "log", text: "log: " + e.log }));
    if (e.hint) li.append(el("span", { class: "hint", text: "HINT:  " + e.hint }));
    frag.append(li);
  }
  const total = Math.max(res.errorsTotal || 0, errs.length);
  if (total > MAX_ROWS) frag.append(el("li", { text: "… and " + (total - MAX_ROWS) + " more" }));
  if (errs.length === 0) frag.append(el("li", { class: "none", text: "none" }));
  ul.append(frag);
}

// patch makes parent's children the items, rebuilding only those whose key
// changed: re-evaluating on every keystroke must not rebuild a 2,000-row
// table when one cell changed.
function patch(parent, items, keyOf, build) {
  const kids = parent.children;
  let i = 0;
  for (const it of items) {
    const key = keyOf(it);
    const old = kids[i];
    if (!old || old._key !== key) {
      const node = build(it);
      node._key = key;
      if (old) old.replaceWith(node); else parent.append(node);
    }
    i++;
  }
  while (kids.length > i) parent.lastChild.remove();
}

function renderTable(table, cols, rows, total, noteId) {
  const headKey = cols.join("\u0000");
  if (table.tHead._key !== headKey) {
    const head = el("tr");
    for (const c of cols) head.append(el("th", { text: c, scope: "col" }));
    table.tHead.replaceChildren(head);
    table.tHead._key = headKey;
    table.tBodies[0].replaceChildren();
  }
  patch(table.tBodies[0], rows.slice(0, MAX_ROWS), (r) => JSON.stringify(r), (r) => {
    const tr = el("tr", { "data-line": String(r.line), "data-file": r.file, class: r.error ? "error" : "" });
    for (const c of r.cells) tr.append(c === null ? el("td", { class: "null" }) : el("td", { text: c }));
    return tr;
  });
  total = Math.max(total, rows.length);
  if (noteId) $(noteId).textContent = total > MAX_ROWS ? "showing the first " + MAX_ROWS + " of " + total + " rows" : total + " rows";
}

function renderAudit(res) {
  const ul = $("lint");
  ul.replaceChildren();
  $("audit-note").textContent = res.error || res.skipped || "";
  const frag = document.createDocumentFragment();
  for (const f of (res.lint || []).slice(0, MAX_ROWS)) {
    const li = el("li", { "data-check": f.check, "data-line": String(f.line), "data-file": f.file });
    const b = el("button", { type: "button", class: "linkish", text: ref(f.file, f.line) });
    b.addEventListener("click", () => highlightLine(f.file, f.line));
    li.append(b, " ", el("span", { class: "sev-" + f.severity, text: f.severity }), " ",
      el("a", { href: LINT_DOC, text: f.check, target: "_blank", rel: "noopener" }), ": " + f.message);
    if (f.related && f.related.length) li.append(" (see " + f.related.join(", ") + ")");
    frag.append(li);
  }
  if (!res.error && !res.skipped && (res.lint || []).length === 0) frag.append(el("li", { class: "none", text: "no findings" }));
  ul.append(frag);
  const tb = $("exposure").tBodies[0];
  const rows = document.createDocumentFragment();
  for (const x of (res.exposure || []).slice(0, MAX_ROWS)) {
    const j = (l) => (l || []).join(" ");
    const addrs = j(x.addresses) + (x.except && x.except.length ? " except " + j(x.except) : "");
    rows.append(el("tr", null, el("td", { text: x.method }), el("td", { text: x.transport }), el("td", { text: addrs }),
      el("td", { text: j(x.databases) }), el("td", { text: j(x.users) }), el("td", { text: j(x.rules) })));
  }
  tb.replaceChildren(rows);
}

// ---- editor ---------------------------------------------------------------

const editor = () => $("editor");
let gutterLines = 0;

function renderTabs() {
  const tabs = $("tabs");
  const errFiles = new Set(lastResult ? allErrors(lastResult).map((e) => e.file) : []);
  tabs.replaceChildren();
  for (const name of Object.keys(files)) {
    const b = el("button", { type: "button", role: "tab", id: "tab-" + name, text: name, "data-file": name });
    b.setAttribute("aria-selected", String(name === current));
    b.setAttribute("aria-controls", "editor");
    if (errFiles.has(name)) b.classList.add("has-error");
    b.addEventListener("click", () => { current = name; showFile(); renderTabs(); });
    tabs.append(b);
  }
  $("remove-file").disabled = current === MAIN || current === IDENT;
}

// A browser's textarea lays out its whole text on every change: tens of
// seconds for 100,000 lines on a slow machine, and seconds for binary junk
// (font fallback). Such a file is evaluated in full but shown read-only:
// its first PREVIEW_LINES lines, or nothing for binary data.
const BIG_BYTES = 1 << 20;
const BIG_LINES = 10000;
const PREVIEW_LINES = 2000;

// bigReason says why text is not edited in the textarea, or "".
function bigReason(text) {
  const head = text.length > 65536 ? text.slice(0, 65536) : text;
  let odd = 0;
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if (c === 0) return "binary data";
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 0xfffd || (c >= 0x7f && c < 0xa0)) odd++;
  }
  if (head.length >= 64 && odd * 100 > head.length) return "binary data";
  if (text.length > BIG_BYTES) return (text.length / 1048576).toFixed(1) + " MB";
  const n = lineCount(text);
  if (n > BIG_LINES) return n.toLocaleString("en") + " lines";
  return "";
}

function preview(text) {
  let i = -1;
  for (let n = 0; n < PREVIEW_LINES; n++) {
    i = text.indexOf("\n", i + 1);
    if (i < 0) return text;
  }
  return text.slice(0, i + 1);
}

function showFile() {
  const ed = editor();
  const text = files[current];
  const why = bigReason(text);
  const note = $("big-note");
  if (why) {
    ed.value = why === "binary data" ? "" : preview(text);
    ed.readOnly = true;
    $("big-text").textContent = current + " is " + why + ": it is evaluated in full, but shown " +
      (why === "binary data" ? "not at all" : "read-only, its first " + PREVIEW_LINES.toLocaleString("en") + " lines") +
      ", so that the page stays responsive.";
    note.hidden = false;
  } else {
    ed.value = text;
    ed.readOnly = false;
    note.hidden = true;
  }
  $("editor-label").textContent = "Contents of " + current;
  ed.setAttribute("aria-label", "Contents of " + current);
  updateGutter();
  renderMarks();
}

function lineCount(text) {
  let n = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

// The gutter holds only the numbers of the visible lines, so that a
// 100,000-line file costs no more to number than a short one; it is redrawn
// in the next animation frame, not inside the input handler, so the handler
// never forces the layout of a big text.
function updateGutter() {
  gutterLines = lineCount(editor().value);
  scheduleSync();
}

let syncQueued = false;
function scheduleSync() {
  if (syncQueued) return;
  syncQueued = true;
  requestAnimationFrame(() => { syncQueued = false; syncScroll(); });
}

function syncScroll() {
  const ed = editor();
  const lh = lineHeight();
  const top = ed.scrollTop;
  const first = Math.floor(top / lh);
  const last = Math.min(gutterLines, first + Math.ceil(ed.clientHeight / lh) + 1);
  let nums = "";
  for (let i = first + 1; i <= last; i++) nums += i + "\n";
  const g = $("gutter-nums");
  if (g.textContent !== nums) g.textContent = nums;
  g.style.transform = "translateY(" + (first * lh - top) + "px)";
  $("gutter").style.width = String(gutterLines).length + 2 + "ch";
  $("marks").style.transform = "translate(" + -ed.scrollLeft + "px," + -top + "px)";
}

let lhCache = 0;
function lineHeight() {
  if (!lhCache) lhCache = parseFloat(getComputedStyle(editor()).lineHeight) || 20;
  return lhCache;
}

function renderMarks() {
  const marks = $("marks");
  marks.replaceChildren();
  const lh = lineHeight();
  const add = (line, cls, text, attrs) => {
    const m = el("div", Object.assign({ class: "mark " + cls, text: text || "" }, attrs || {}));
    m.style.top = (line - 1) * lh + "px";
    marks.append(m);
  };
  const res = lastResult;
  if (res) {
    const dec = res.decision;
    if (dec && dec.file === current && dec.line) add(dec.line, "decided", "");
    let n = 0;
    for (const e of allErrors(res)) {
      if (e.file !== current || n++ >= MAX_ROWS) continue;
      add(e.line, "err", e.message, { "data-error-line": String(e.line) });
    }
  }
  if (highlight && highlight.file === current) add(highlight.line, "hl", "", { id: "highlight" });
  $("editor-box").dataset.highlight = highlight ? ref(highlight.file, highlight.line) : "";
}

// highlightLine shows file:line in the editor, switching tabs if needed,
// without moving the keyboard focus.
function highlightLine(file, line) {
  if (!(file in files)) return;
  if (current !== file) { current = file; showFile(); renderTabs(); }
  highlight = { file, line };
  renderMarks();
  const ed = editor();
  const lh = lineHeight();
  const top = (line - 1) * lh;
  if (top < ed.scrollTop || top > ed.scrollTop + ed.clientHeight - 2 * lh) ed.scrollTop = Math.max(0, top - ed.clientHeight / 3);
  syncScroll();
}

function connTypeChanged() {
  const local = $("conn-type").value === "local";
  for (const id of ["conn-addr", "conn-ssl", "conn-gss"]) $(id).disabled = local;
}

// ---- start ----------------------------------------------------------------

function wire() {
  const ed = editor();
  ed.addEventListener("input", () => {
    const at = performance.now();
    files[current] = ed.value;
    filesGen++;
    if (highlight && highlight.file === current) highlight = null;
    if (ed.value.length > 65536 && bigReason(ed.value)) showFile(); // before the browser lays it out
    else updateGutter();
    changed(at);
    stats.lastHandlerMs = performance.now() - at;
  });
  ed.addEventListener("scroll", syncScroll);
  for (const id of ["version", "minor", "server-ssl", "conn-type", "conn-addr", "conn-ssl", "conn-gss", "conn-db", "conn-user", "conn-replication", "conn-system-user", "roles"].concat(FEATURES.map((f) => "feat-" + f))) {
    const e = $(id);
    e.addEventListener(e.tagName === "SELECT" || e.type === "checkbox" ? "change" : "input", () => {
      const at = performance.now();
      if (id === "conn-type") connTypeChanged();
      changed(at);
    });
  }
  $("add-file").addEventListener("click", () => {
    const name = $("new-file-name").value.trim();
    if (!validName(name)) { $("share-status").textContent = "a file name is a relative path such as users.txt"; return; }
    if (!(name in files)) { files[name] = ""; filesGen++; }
    current = name;
    $("new-file-name").value = "";
    renderTabs();
    showFile();
    changed(performance.now());
    editor().focus();
  });
  $("clear-file").addEventListener("click", () => {
    files[current] = "";
    filesGen++;
    showFile();
    changed(performance.now());
    editor().focus();
  });
  $("new-file-name").addEventListener("keydown", (e) => { if (e.key === "Enter") $("add-file").click(); });
  $("remove-file").addEventListener("click", () => {
    if (current === MAIN || current === IDENT) return;
    delete files[current];
    filesGen++;
    current = MAIN;
    renderTabs();
    showFile();
    changed(performance.now());
  });
  $("copy-link").addEventListener("click", async () => {
    $("share-link").select();
    try { await navigator.clipboard.writeText($("share-link").value); $("share-status").textContent = "copied"; } catch { $("share-status").textContent = "select the link and copy it"; }
  });
  window.addEventListener("hashchange", () => restore(location.hash, true));
}

// restore loads the state of a share link, or the sample when there is
// none. A link that does not decode leaves every file empty.
async function restore(hash, fromHashChange) {
  const r = await decodeLink(hash);
  const box = $("share-error");
  if (r === null) {
    if (fromHashChange) return;
    box.hidden = true;
    applyState(SAMPLE);
  } else if (r.error) {
    box.textContent = "This share link does not decode: " + r.error + ". The editor is left empty.";
    box.hidden = false;
    applyState({ version: 18, files: { [MAIN]: "" } });
  } else {
    box.hidden = true;
    applyState(r.state);
  }
  if (core) changed(null);
}

async function compileWasm() {
  try {
    return await WebAssembly.compileStreaming(fetch("main.wasm"));
  } catch (err) {
    // A server without the application/wasm type: compile from bytes.
    const resp = await fetch("main.wasm");
    if (!resp.ok) throw new Error("main.wasm: HTTP " + resp.status);
    return await WebAssembly.compile(await resp.arrayBuffer());
  }
}

async function boot() {
  wire();
  const restoring = restore(location.hash, false);
  try {
    wasmModule = await compileWasm();
  } catch (err) {
    engineStatus("could not load the WebAssembly engine: " + err.message, true);
    return;
  }
  await restoring;
  core = new Engine("evaluate", onCore);
  audit = new Engine("audit", onAudit);
  changed(null);
}

boot();
