// The shop's page: register, log in, list products, order one, pay, and watch the order's status
// change live over the API's WebSocket.  No framework, no build step.
"use strict";

const API = window.SHOP_CONFIG.api;
let token = null;
let socket = null;
let currentOrder = null;

const $ = (selector) => document.querySelector(selector);
const euros = (cents) => `${(cents / 100).toFixed(2)} €`;

function say(text) {
  $("#message").textContent = text || "";
}

async function call(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(API + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error(data && data.error ? data.error : `${method} ${path}: ${response.status}`);
  return data;
}

function fields(form) {
  return Object.fromEntries(new FormData(form).entries());
}

$("#register").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const user = await call("POST", "/auth/register", fields(event.target));
    say(`Registered ${user.email}: log in now.`);
    $("#login [name=email]").value = user.email;
  } catch (err) {
    say(err.message);
  }
});

$("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    token = (await call("POST", "/auth/login", fields(event.target))).access_token;
    const me = await call("GET", "/auth/me");
    say("");
    $("#who").textContent = `Logged in as ${me.name} (${me.email})`;
    $("#who").hidden = false;
    document.body.classList.add("logged-in");
    await listProducts();
  } catch (err) {
    say(err.message);
  }
});

async function listProducts() {
  const list = $("#products");
  list.replaceChildren();
  for (const product of await call("GET", "/products")) {
    const item = document.createElement("li");
    item.dataset.productId = product.id;
    const label = document.createElement("span");
    label.className = "product";
    label.textContent = `${product.name} — ${euros(product.price_cents)} `;
    const quantity = document.createElement("input");
    quantity.type = "number";
    quantity.min = "1";
    quantity.value = "1";
    quantity.className = "quantity";
    quantity.setAttribute("aria-label", `quantity of ${product.name}`);
    const order = document.createElement("button");
    order.type = "button";
    order.textContent = "Order";
    order.addEventListener("click", () => placeOrder(product.id, Number(quantity.value)));
    item.append(label, quantity, order);
    list.append(item);
  }
}

async function placeOrder(productId, quantity) {
  try {
    const order = await call("POST", "/orders", { items: [{ product_id: productId, quantity }] });
    showOrder(order);
  } catch (err) {
    say(err.message);
  }
}

function showOrder(order) {
  currentOrder = order;
  $("#order").hidden = false;
  $("#order-id").textContent = `#${order.id}`;
  $("#order-total").textContent = euros(order.total_cents);
  $("#order-shipping").textContent = euros(order.shipping_cents);
  $("#order-history").replaceChildren();
  $("#order-reason").textContent = "";
  setStatus(order.status);
  watch(order.id);
}

function setStatus(status) {
  $("#order-status").textContent = status;
  $("#pay").disabled = status !== "reserved";
}

// The API replays the order's statuses, then pushes every change: {"order_id", "status"}.
function watch(orderId) {
  if (socket) socket.close();
  const url = `${API.replace(/^http/, "ws")}/ws/orders/${orderId}?token=${encodeURIComponent(token)}`;
  socket = new WebSocket(url);
  socket.addEventListener("message", async (event) => {
    const { order_id: id, status } = JSON.parse(event.data);
    if (!currentOrder || id !== currentOrder.id) return;
    const entry = document.createElement("li");
    entry.textContent = status;
    $("#order-history").append(entry);
    setStatus(status);
    if (status === "rejected" || status === "cancelled") {
      const order = await call("GET", `/orders/${id}`);
      $("#order-reason").textContent = order.reason ? `(${order.reason})` : "";
    }
  });
  socket.addEventListener("close", (event) => {
    if (event.code >= 4000) say(`live updates stopped: ${event.reason}`);
  });
}

$("#pay").addEventListener("click", async () => {
  $("#pay").disabled = true;
  try {
    await call("POST", `/orders/${currentOrder.id}/pay`);
  } catch (err) {
    say(err.message); // declined: the status turns to cancelled over the socket
  }
});

call("GET", "/products").then(() => listProducts()).catch((err) => say(`the shop is unavailable: ${err.message}`));
