"use strict";
// What the inventory's tests share: a connection to the bus and to the inventory's database, a
// tap on what the service publishes, and a wait until the service has nothing left to do.

const { connect, JSONCodec } = require("nats");
const { Client } = require("pg");

const json = JSONCodec();

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite under \`stackrig run -- npm --prefix inventory test\``);
  return value;
}

async function openBus() {
  const nc = await connect({ servers: env("NATS_URL"), name: "inventory-tests" });
  return { nc, js: nc.jetstream(), jsm: await nc.jetstreamManager() };
}

async function openDb() {
  const db = new Client({ connectionString: env("INVENTORY_DATABASE_URL"), application_name: "inventory-tests" });
  await db.connect();
  return db;
}

/** A core subscription that copies what is published on `subject` (it takes nothing from the
 *  service's durable consumers); `waitFor(subject, pred)` resolves with the first match. */
function tap(nc, subject) {
  const events = [];
  const waiters = [];
  const sub = nc.subscribe(subject);
  (async () => {
    for await (const m of sub) {
      const event = { subject: m.subject, body: json.decode(m.data) };
      events.push(event);
      for (const w of [...waiters]) {
        if (w.matches(event)) {
          waiters.splice(waiters.indexOf(w), 1);
          clearTimeout(w.timer);
          w.resolve(event);
        }
      }
    }
  })();
  return {
    events,
    close: () => sub.unsubscribe(),
    waitFor(subj, pred = () => true, timeoutMs = 10000) {
      const matches = (e) => e.subject === subj && pred(e.body);
      const seen = events.find(matches);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = { matches, resolve };
        w.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no ${subj} within ${timeoutMs} ms; the tap saw: ${JSON.stringify(events)}`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
  };
}

/** Publish an event into its stream, as the shop's API would. */
async function publish(js, subject, body) {
  return js.publish(subject, json.encode(body));
}

const CONSUMERS = [["SHOP", "inventory"], ["INVENTORY", "api"]];

/** Wait until the inventory has handled and announced everything (its consumer has nothing
 *  pending or unacknowledged, its outbox is empty, and the API took what it announced). */
async function settle(jsm, db, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  for (;;) {
    const busy = [];
    for (const [stream, durable] of CONSUMERS) {
      const info = await jsm.consumers.info(stream, durable);
      if (info.num_pending || info.num_ack_pending) busy.push(`${durable}: ${info.num_pending} pending, ${info.num_ack_pending} unacknowledged`);
    }
    const outbox = Number((await db.query("SELECT count(*) AS n FROM outbox")).rows[0].n);
    if (outbox) busy.push(`outbox: ${outbox}`);
    quiet = busy.length ? 0 : quiet + 1;
    if (quiet === 2) return;
    if (Date.now() > deadline) throw new Error(`the inventory did not settle within ${timeoutMs} ms: ${busy.join("; ")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = { env, openBus, openDb, tap, publish, settle, sleep };
