"use strict";
// The Jest suite's side of stackrig: reset the stack between tests through the control channel of
// the run that `stackrig run -- npm --prefix inventory test` started (or `stackrig up -d`).
//
// The run record is the JSON file at $STACKRIG_STATE; its `control` is the Unix socket of the
// process that owns the stack.  A reset is one JSON line, {"op": "reset"}, answered by one JSON
// line: {"ok": true, "reset": [...services], "ms": 1.2} — the same reset pytest runs between two
// tests (both databases back to their seeds, Redis flushed, streams purged, stubs, mailboxes,
// faults).  `stackrig reset` on the command line does the same.

const fs = require("fs");
const net = require("net");

function runRecord() {
  const path = process.env.STACKRIG_STATE;
  if (!path) {
    throw new Error("STACKRIG_STATE is not set: run the suite under stackrig, " +
      "`stackrig run -- npm --prefix inventory test` in examples/shop");
  }
  return JSON.parse(fs.readFileSync(path, "utf8"));
}

/** Send one request on the run's control socket and resolve with the owner's answer. */
function control(request, { timeoutMs = 60000 } = {}) {
  const socketPath = runRecord().control;
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let answer = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`stackrig's control channel at ${socketPath} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(JSON.stringify(request) + "\n"));
    socket.on("data", (chunk) => {
      answer += chunk;
      const end = answer.indexOf("\n");
      if (end < 0) return;
      clearTimeout(timer);
      socket.end();
      const reply = JSON.parse(answer.slice(0, end));
      if (reply.ok) {
        resolve(reply);
      } else {
        // an error crosses the channel as {"type", "fields": {"message", "hint", ...}, "args"}
        const error = (reply.error && reply.error.fields) || {};
        const message = error.message || (reply.error && reply.error.args && reply.error.args[0]) || JSON.stringify(reply);
        reject(new Error(`stackrig: ${message}${error.hint ? `\n  fix: ${error.hint}` : ""}`));
      }
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`stackrig's control channel at ${socketPath}: ${err.message} (is the stack still running?)`));
    });
  });
}

/** Put the stack back to its baseline, as between two pytest tests; `services` limits it. */
function reset(services) {
  let label = "jest";
  try {
    label = `jest: ${expect.getState().currentTestName}`;
  } catch (err) {
    // outside a test
  }
  return control({ op: "reset", services: services || null, label });
}

module.exports = { control, reset, runRecord };
