"use strict";
// The inventory's rules, each one transaction on its own database.  Every handler is idempotent:
// the `reservations` row of an order says what was already done, so a redelivered event finds it
// and changes nothing.  The events a change announces go to the outbox in the same transaction.

const { inTransaction } = require("./db");

async function enqueue(client, subject, payload) {
  await client.query("INSERT INTO outbox (subject, payload) VALUES ($1, $2)", [subject, JSON.stringify(payload)]);
}

function mergeLines(items) {
  const quantities = new Map();
  for (const item of items || []) {
    const id = Number(item.product_id);
    const quantity = Number(item.quantity);
    if (!Number.isSafeInteger(id) || !Number.isSafeInteger(quantity) || quantity < 1) {
      return null;
    }
    quantities.set(id, (quantities.get(id) || 0) + quantity);
  }
  return quantities.size ? [...quantities.entries()].sort((a, b) => a[0] - b[0]) : null;
}

/** `orders.created`: reserve every line of the order, or none (then `inventory.rejected`). */
async function reserve(pool, event) {
  const orderId = event.order_id;
  return inTransaction(pool, async (client) => {
    const claimed = await client.query(
      "INSERT INTO reservations (order_id, status) VALUES ($1, 'reserved') ON CONFLICT (order_id) DO NOTHING" +
        " RETURNING order_id", [orderId]);
    if (claimed.rowCount === 0) {
      return "duplicate";
    }
    const lines = mergeLines(event.items);
    let reason = lines ? null : "the order has no valid items";
    if (lines) {
      await client.query("SAVEPOINT lines");
      // Lock the stock rows in product order, so concurrent reservations cannot deadlock.
      for (const [productId, quantity] of lines) {
        const taken = await client.query(
          "UPDATE stock SET available = available - $2, reserved = reserved + $2, updated_at = now()" +
            " WHERE product_id = $1 AND available >= $2 RETURNING product_id", [productId, quantity]);
        if (taken.rowCount === 1) {
          await client.query(
            "INSERT INTO reservation_items (order_id, product_id, quantity) VALUES ($1, $2, $3)",
            [orderId, productId, quantity]);
          continue;
        }
        const row = await client.query("SELECT available FROM stock WHERE product_id = $1", [productId]);
        reason = row.rowCount === 0
          ? `product ${productId} is not stocked`
          : `insufficient stock for product ${productId}: ${quantity} requested, ${row.rows[0].available} available`;
        break;
      }
      if (reason) {
        await client.query("ROLLBACK TO SAVEPOINT lines");
      }
    }
    if (reason) {
      await client.query(
        "UPDATE reservations SET status = 'rejected', reason = $2, updated_at = now() WHERE order_id = $1",
        [orderId, reason]);
      await enqueue(client, "inventory.rejected", { order_id: orderId, reason });
      return "rejected";
    }
    await enqueue(client, "inventory.reserved", {
      order_id: orderId,
      items: lines.map(([productId, quantity]) => ({ product_id: productId, quantity })),
    });
    return "reserved";
  });
}

async function lockReservation(client, orderId) {
  const found = await client.query("SELECT status FROM reservations WHERE order_id = $1 FOR UPDATE", [orderId]);
  return found.rowCount ? found.rows[0].status : null;
}

async function itemsOf(client, orderId) {
  const items = await client.query(
    "SELECT product_id, quantity FROM reservation_items WHERE order_id = $1 ORDER BY product_id", [orderId]);
  return items.rows.map((r) => ({ product_id: Number(r.product_id), quantity: r.quantity }));
}

/** `orders.cancelled`: put a reservation's stock back (then `inventory.released`). */
async function release(pool, event) {
  const orderId = event.order_id;
  return inTransaction(pool, async (client) => {
    const status = await lockReservation(client, orderId);
    if (status === null) {
      // Cancelled before it was reserved: remember it, so a late `orders.created` reserves nothing.
      await client.query(
        "INSERT INTO reservations (order_id, status, reason) VALUES ($1, 'released', 'cancelled before reservation')",
        [orderId]);
      return "nothing reserved";
    }
    if (status !== "reserved") {
      return `already ${status}`;
    }
    const items = await itemsOf(client, orderId);
    for (const { product_id: productId, quantity } of items) {
      await client.query(
        "UPDATE stock SET available = available + $2, reserved = reserved - $2, updated_at = now()" +
          " WHERE product_id = $1", [productId, quantity]);
    }
    await client.query("UPDATE reservations SET status = 'released', updated_at = now() WHERE order_id = $1",
      [orderId]);
    await enqueue(client, "inventory.released", { order_id: orderId, items });
    return "released";
  });
}

/** `orders.paid`: the reserved units are sold (they leave `reserved`; `available` stays). */
async function sell(pool, event) {
  const orderId = event.order_id;
  return inTransaction(pool, async (client) => {
    const status = await lockReservation(client, orderId);
    if (status !== "reserved") {
      return status === null ? "unknown order" : `already ${status}`;
    }
    for (const { product_id: productId, quantity } of await itemsOf(client, orderId)) {
      await client.query("UPDATE stock SET reserved = reserved - $2, updated_at = now() WHERE product_id = $1",
        [productId, quantity]);
    }
    await client.query("UPDATE reservations SET status = 'sold', updated_at = now() WHERE order_id = $1", [orderId]);
    return "sold";
  });
}

/** `products.created`: a product of the shop gets its initial stock (a repeat changes nothing). */
async function stockProduct(pool, event) {
  const available = Number.isSafeInteger(event.stock) && event.stock >= 0 ? event.stock : 0;
  const done = await pool.query(
    "INSERT INTO stock (product_id, available) VALUES ($1, $2) ON CONFLICT (product_id) DO NOTHING",
    [event.product_id, available]);
  return done.rowCount ? "stocked" : "duplicate";
}

async function stockOf(pool, productId) {
  const found = await pool.query("SELECT product_id, available, reserved FROM stock WHERE product_id = $1",
    [productId]);
  if (!found.rowCount) {
    return null;
  }
  const row = found.rows[0];
  return { product_id: Number(row.product_id), available: row.available, reserved: row.reserved };
}

const HANDLERS = {
  "orders.created": reserve,
  "orders.cancelled": release,
  "orders.paid": sell,
  "products.created": stockProduct,
};

module.exports = { HANDLERS, reserve, release, sell, stockProduct, stockOf };
