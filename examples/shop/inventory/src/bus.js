"use strict";
// The service on NATS JetStream: it consumes the shop's events from a durable pull consumer
// (declared in stackrig.toml, so it outlives any connection) and publishes its own from the
// outbox.  Nothing is lost while the bus is away: unacknowledged events are delivered again
// when the consumer is back, and the outbox keeps what could not be published until the stream
// acknowledges it (each with its Nats-Msg-Id, so a retried publish is stored once).

const { connect, headers: natsHeaders, JSONCodec } = require("nats");
const { HANDLERS } = require("./stock");

const json = JSONCodec();

class Bus {
  constructor({ natsUrl, stream, consumer, pool, log = console }) {
    Object.assign(this, { natsUrl, stream, consumerName: consumer, pool, log });
    this.nc = null;
    this.stopped = false;
    this.connected = false;
    this.consuming = false;
    this._wake = null;
    this.tasks = [];
  }

  async start() {
    this.nc = await connect({
      servers: this.natsUrl,
      name: "inventory",
      maxReconnectAttempts: -1, // forever: the bus may be down for a while
      reconnectTimeWait: 250,
      waitOnFirstConnect: true,
      pingInterval: 5000,
    });
    this.connected = true;
    this.js = this.nc.jetstream({ timeout: 2000 });
    (async () => {
      for await (const s of this.nc.status()) {
        if (s.type === "disconnect") this.connected = false;
        if (s.type === "reconnect") {
          this.connected = true;
          this.wake();
        }
        if (s.type === "disconnect" || s.type === "reconnect") this.log.info(`inventory: bus ${s.type}`);
      }
    })().catch(() => {});
    const consumer = await this.js.consumers.get(this.stream, this.consumerName);
    this.messages = await consumer.consume({ max_messages: 16 });
    this.consuming = true;
    this.tasks.push(this._consume(), this._publishLoop());
  }

  async _consume() {
    for await (const m of this.messages) {
      await this._handle(m);
    }
    this.consuming = false;
  }

  async _handle(m) {
    const handler = HANDLERS[m.subject];
    if (!handler) {
      m.ack(); // not an event the inventory acts on
      return;
    }
    let event;
    try {
      event = m.json();
    } catch (err) {
      this.log.warn(`inventory: ${m.subject} #${m.seq} is not JSON (${err.message}); dropped`);
      m.term();
      return;
    }
    const id = m.subject.startsWith("products.") ? event && event.product_id : event && event.order_id;
    if (!Number.isSafeInteger(id) || id < 1) {
      this.log.warn(`inventory: ${m.subject} #${m.seq} has no valid id: ${JSON.stringify(event)}; dropped`);
      m.term();
      return;
    }
    try {
      const outcome = await handler(this.pool, event);
      this.log.info(`inventory: ${m.subject} ${id} (delivery ${m.info.redeliveryCount}): ${outcome}`);
      m.ack();
      this.wake();
    } catch (err) {
      // The database is away, say: have it delivered again in a second.
      this.log.warn(`inventory: ${m.subject} ${id} failed, retrying: ${err.message}`);
      m.nak(1000);
    }
  }

  wake() {
    if (this._wake) {
      this._wake();
      this._wake = null;
    }
  }

  _sleep(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this._wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async _publishLoop() {
    while (!this.stopped) {
      let wait = 500;
      try {
        wait = (await this.publishPending()) ? 0 : 500;
      } catch (err) {
        this.log.warn(`inventory: publishing the outbox failed, retrying: ${err.message}`);
        wait = 250;
      }
      if (wait && !this.stopped) await this._sleep(wait);
    }
  }

  /** Publish what waits in the outbox, oldest first; true when it published something. */
  async publishPending() {
    const rows = await this.pool.query("SELECT id, msg_id, subject, payload FROM outbox ORDER BY id LIMIT 100");
    for (const row of rows.rows) {
      const h = natsHeaders();
      h.set("content-type", "application/json");
      await this.js.publish(row.subject, json.encode(row.payload), { msgID: row.msg_id, headers: h, timeout: 2000 });
      await this.pool.query("DELETE FROM outbox WHERE id = $1", [row.id]);
    }
    return rows.rowCount > 0;
  }

  async close() {
    this.stopped = true;
    this.wake();
    if (this.messages) await this.messages.close().catch(() => {});
    if (this.nc) await this.nc.drain().catch(() => {});
  }
}

module.exports = { Bus };
