"use strict";
// The inventory service: `node src/server.js` with DATABASE_URL, NATS_URL and PORT set.
const { fromEnv } = require("./config");
const { openPool } = require("./db");
const { Bus } = require("./bus");
const { createApp } = require("./app");

async function main() {
  const config = fromEnv();
  const pool = openPool(config.databaseUrl);
  const bus = new Bus({ natsUrl: config.natsUrl, stream: config.stream, consumer: config.consumer, pool });
  await bus.start();
  const server = createApp({ pool, bus }).listen(config.port, config.host, () => {
    console.log(`inventory listening on http://${config.host}:${config.port}`);
  });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.close();
    await bus.close();
    await pool.end().catch(() => {});
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((err) => {
  console.error(`inventory: cannot start: ${err.message}`);
  process.exit(1);
});
