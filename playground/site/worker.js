// The playground's evaluator: runs the Go WebAssembly module off the page's
// main thread. Messages in: {init: WebAssembly.Module} once, then
// {id, kind: "evaluate"|"audit", state}. Messages out: {ready: true} once,
// then {id, kind, json, ms} per request (json is the Go side's answer).
"use strict";
importScripts("wasm_exec.js");

let ready = null;

self.onmessage = async (e) => {
  const msg = e.data;
  if (msg.init) {
    ready = (async () => {
      const go = new Go();
      const inst = await WebAssembly.instantiate(msg.init, go.importObject);
      go.run(inst); // returns when main exits, which it never does
      self.postMessage({ ready: true });
    })().catch((err) => self.postMessage({ fatal: String(err) }));
    return;
  }
  await ready;
  const t0 = performance.now();
  let json;
  try {
    const input = JSON.stringify(msg.state);
    json = msg.kind === "audit" ? self.pghbaAudit(input) : self.pghbaEvaluate(input);
  } catch (err) {
    json = JSON.stringify({ error: "engine: " + String(err) });
  }
  self.postMessage({ id: msg.id, kind: msg.kind, json, ms: performance.now() - t0 });
};
