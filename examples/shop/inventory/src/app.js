"use strict";
// The HTTP API: GET /stock/:product_id and GET /health.  Errors are {"error": "..."}.
const express = require("express");
const { stockOf } = require("./stock");

const MAX_ID = 9223372036854775807n;

function createApp({ pool, bus }) {
  const app = express();
  app.disable("x-powered-by");

  app.get("/health", async (req, res) => {
    try {
      await pool.query("SELECT 1");
    } catch (err) {
      return res.status(503).json({ error: `database unavailable: ${err.message}` });
    }
    if (bus && !(bus.connected && bus.consuming)) {
      return res.status(503).json({ error: "not connected to the event bus" });
    }
    return res.json({ status: "ok" });
  });

  app.get("/stock/:productId", async (req, res) => {
    const raw = req.params.productId;
    if (!/^[0-9]{1,19}$/.test(raw) || BigInt(raw) < 1n || BigInt(raw) > MAX_ID) {
      return res.status(400).json({ error: `product id must be a positive integer, found ${JSON.stringify(raw)}` });
    }
    const stock = await stockOf(pool, raw);
    if (!stock) {
      return res.status(404).json({ error: `no stock for product ${raw}` });
    }
    return res.json(stock);
  });

  app.use((req, res) => res.status(404).json({ error: `no route ${req.method} ${req.path}` }));

  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    console.warn(`inventory: ${req.method} ${req.path} failed: ${err.message}`);
    res.status(503).json({ error: "Service temporarily unavailable" });
  });
  return app;
}

module.exports = { createApp };
