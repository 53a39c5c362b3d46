"use strict";
// The PostgreSQL pool of the inventory database; `application_name` lets operators (and tests)
// find the service's sessions in pg_stat_activity.
const { Pool } = require("pg");

function openPool(databaseUrl) {
  const pool = new Pool({
    connectionString: databaseUrl,
    application_name: "inventory",
    max: 5,
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 10000,
  });
  // A connection that breaks while idle (the database restarted, the fault proxy cut it) is
  // dropped from the pool; the next query opens a fresh one.
  pool.on("error", (err) => console.warn(`inventory: idle database connection failed: ${err.message}`));
  return pool;
}

async function inTransaction(pool, work) {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

module.exports = { openPool, inTransaction };
