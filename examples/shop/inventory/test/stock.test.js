"use strict";
// The inventory service against the running stack (its database, the bus, the API beside it):
// `stackrig run -- npm --prefix inventory test` from examples/shop.  HTTP through supertest on
// the service's URL; events published into JetStream as the API would, and what the service
// announces caught with a tap.  After each test stackrig resets the stack through its control
// channel (test/stackrig.js): every test starts from inventory/seed.sql.

const request = require("supertest");
const { reset } = require("./stackrig");
const { env, openBus, openDb, tap, publish, settle, sleep } = require("./helpers");

const service = () => request(env("INVENTORY_URL"));
let bus;
let db;
let events;

beforeAll(async () => {
  bus = await openBus();
  db = await openDb();
});

beforeEach(() => {
  events = tap(bus.nc, "inventory.>");
});

afterEach(async () => {
  events.close();
  await settle(bus.jsm, db); // nothing of this test may land after the reset
  await reset();
});

afterAll(async () => {
  await db.end();
  await bus.nc.close();
});

const order = (orderId, ...lines) => ({
  order_id: orderId,
  items: lines.map(([productId, quantity]) => ({ product_id: productId, quantity })),
});

describe("GET /stock/:product_id", () => {
  test("answers the seed's stock", async () => {
    const res = await service().get("/stock/1").expect(200).expect("Content-Type", /json/);
    expect(res.body).toEqual({ product_id: 1, available: 25, reserved: 0 });
  });

  test("an unstocked product is 404, an id that is no id 400", async () => {
    expect((await service().get("/stock/999").expect(404)).body).toEqual({ error: "no stock for product 999" });
    expect((await service().get("/stock/abc").expect(400)).body.error).toMatch(/positive integer/);
    await service().get("/stock/0").expect(400);
    await service().get("/stock/99999999999999999999").expect(400);
  });

  test("/health says the database and the bus are there", async () => {
    expect((await service().get("/health").expect(200)).body).toEqual({ status: "ok" });
  });
});

describe("the saga", () => {
  test("orders.created reserves the stock and announces inventory.reserved", async () => {
    await publish(bus.js, "orders.created", order(9001, [2, 2]));
    const ev = await events.waitFor("inventory.reserved", (b) => b.order_id === 9001);
    expect(ev.body).toEqual({ order_id: 9001, items: [{ product_id: 2, quantity: 2 }] });
    expect((await service().get("/stock/2")).body).toEqual({ product_id: 2, available: 3, reserved: 2 });
    const row = await db.query("SELECT status FROM reservations WHERE order_id = 9001");
    expect(row.rows).toEqual([{ status: "reserved" }]);
  });

  test("insufficient stock is rejected with a reason, and nothing is taken", async () => {
    await publish(bus.js, "orders.created", order(9002, [1, 2], [2, 6]));
    const ev = await events.waitFor("inventory.rejected", (b) => b.order_id === 9002);
    expect(ev.body).toEqual({ order_id: 9002, reason: "insufficient stock for product 2: 6 requested, 5 available" });
    // all lines or none: product 1 could have been served, and was given back
    expect((await service().get("/stock/1")).body).toEqual({ product_id: 1, available: 25, reserved: 0 });
    expect((await service().get("/stock/2")).body).toEqual({ product_id: 2, available: 5, reserved: 0 });
  });

  test("an unstocked product is rejected", async () => {
    await publish(bus.js, "orders.created", order(9003, [424242, 1]));
    const ev = await events.waitFor("inventory.rejected", (b) => b.order_id === 9003);
    expect(ev.body.reason).toBe("product 424242 is not stocked");
  });

  test("orders.cancelled releases the reservation and announces inventory.released", async () => {
    await publish(bus.js, "orders.created", order(9004, [3, 10]));
    await events.waitFor("inventory.reserved", (b) => b.order_id === 9004);
    await publish(bus.js, "orders.cancelled", { order_id: 9004, reason: "payment declined" });
    const ev = await events.waitFor("inventory.released", (b) => b.order_id === 9004);
    expect(ev.body.items).toEqual([{ product_id: 3, quantity: 10 }]);
    expect((await service().get("/stock/3")).body).toEqual({ product_id: 3, available: 40, reserved: 0 });
  });

  test("orders.paid sells the reserved units", async () => {
    await publish(bus.js, "orders.created", order(9005, [1, 4]));
    await events.waitFor("inventory.reserved", (b) => b.order_id === 9005);
    await publish(bus.js, "orders.paid", { order_id: 9005 });
    await settle(bus.jsm, db);
    expect((await service().get("/stock/1")).body).toEqual({ product_id: 1, available: 21, reserved: 0 });
    const row = await db.query("SELECT status FROM reservations WHERE order_id = 9005");
    expect(row.rows).toEqual([{ status: "sold" }]);
  });

  test("products.created stocks a new product of the shop", async () => {
    await publish(bus.js, "products.created", { product_id: 77, stock: 7 });
    await settle(bus.jsm, db);
    expect((await service().get("/stock/77").expect(200)).body).toEqual({ product_id: 77, available: 7, reserved: 0 });
  });
});

describe("idempotent consumers", () => {
  test("a redelivered orders.created changes nothing", async () => {
    await publish(bus.js, "orders.created", order(9006, [2, 1]));
    await events.waitFor("inventory.reserved", (b) => b.order_id === 9006);
    await publish(bus.js, "orders.created", order(9006, [2, 1]));
    await settle(bus.jsm, db);
    await sleep(100);
    expect(events.events.filter((e) => e.body.order_id === 9006)).toHaveLength(1);
    expect((await service().get("/stock/2")).body).toEqual({ product_id: 2, available: 4, reserved: 1 });
  });

  test("a redelivered orders.cancelled releases once", async () => {
    await publish(bus.js, "orders.created", order(9007, [2, 3]));
    await events.waitFor("inventory.reserved", (b) => b.order_id === 9007);
    await publish(bus.js, "orders.cancelled", { order_id: 9007 });
    await publish(bus.js, "orders.cancelled", { order_id: 9007 });
    await settle(bus.jsm, db);
    expect(events.events.filter((e) => e.subject === "inventory.released")).toHaveLength(1);
    expect((await service().get("/stock/2")).body).toEqual({ product_id: 2, available: 5, reserved: 0 });
  });

  test("an order cancelled before it was reserved is never reserved", async () => {
    await publish(bus.js, "orders.cancelled", { order_id: 9008 });
    await publish(bus.js, "orders.created", order(9008, [1, 1]));
    await settle(bus.jsm, db);
    expect(events.events).toEqual([]);
    expect((await service().get("/stock/1")).body.available).toBe(25);
  });
});

describe("resets between tests", () => {
  test("a test changes the stock behind the service's back", async () => {
    await db.query("UPDATE stock SET available = 0 WHERE product_id = 1");
    await db.query("INSERT INTO stock (product_id, available) VALUES (555, 1)");
    expect((await service().get("/stock/1")).body.available).toBe(0);
  });

  test("the next test starts from the seed again", async () => {
    expect((await service().get("/stock/1")).body).toEqual({ product_id: 1, available: 25, reserved: 0 });
    await service().get("/stock/555").expect(404);
    const reservations = await db.query("SELECT count(*)::int AS n FROM reservations");
    expect(reservations.rows[0].n).toBe(0); // the saga tests' reservations are gone
    const stream = await bus.jsm.streams.info("SHOP");
    expect(stream.state.messages).toBe(0); // and the events they published
  });
});
