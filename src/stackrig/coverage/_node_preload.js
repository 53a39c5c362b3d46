// Loaded with `node --require` in a service run with `coverage = true`: Node writes the V8 coverage
// of NODE_V8_COVERAGE only when it exits normally, and a SIGTERM with no listener kills it first.
// So: exit on SIGTERM/SIGINT when the app has no handler of its own (then the app's handler runs).
"use strict";
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    if (process.listenerCount(signal) === 1) process.exit(128 + (signal === "SIGTERM" ? 15 : 2));
  });
}
