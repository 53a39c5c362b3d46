'use strict';
// Consumer contract of the shop's web client: Pact V4, written to ../pacts/shop-web-shop-api.json.
// The shop verifies it with `stackrig pact verify pacts --provider api` (states: pact_states.py).
process.env.PACT_DO_NOT_TRACK = 'true';

const path = require('node:path');
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { PactV4, MatchersV3 } = require('@pact-foundation/pact');
const { ShopClient, ShopError } = require('../src/shopClient');

const { eachLike, fromProviderState, integer, like, regex, string } = MatchersV3;

const pact = new PactV4({
  consumer: 'shop-web',
  provider: 'shop-api',
  dir: process.env.PACT_DIR || path.resolve(__dirname, '..', '..', 'pacts'),
  logLevel: 'warn',
});

// only what the storefront reads (the shop may add fields; stock lives in the inventory service)
const product = {
  id: integer(1),
  name: string('Espresso cup'),
  description: string('Porcelain, 80 ml'),
  price_cents: integer(1200),
  version: integer(1),
};

test('reads a product', async () => {
  await pact
    .addInteraction()
    .given('a product with id 1 exists', { id: 1 })
    .uponReceiving('a request for product 1')
    .withRequest('GET', '/products/1', (req) => req.headers({ Accept: 'application/json' }))
    .willRespondWith(200, (res) => res.headers({ 'Content-Type': 'application/json' }).jsonBody(product))
    .executeTest(async (server) => {
      const found = await new ShopClient(server.url).product(1);
      assert.equal(found.id, 1);
      assert.equal(typeof found.name, 'string');
    });
});

test('lists the products', async () => {
  await pact
    .addInteraction()
    .given('a product with id 1 exists', { id: 1 })
    .uponReceiving('a request for the products')
    .withRequest('GET', '/products', (req) => req.headers({ Accept: 'application/json' }))
    .willRespondWith(200, (res) => res.headers({ 'Content-Type': 'application/json' }).jsonBody(eachLike(product)))
    .executeTest(async (server) => {
      const found = await new ShopClient(server.url).products();
      assert.ok(found.length >= 1);
    });
});

test('a product that does not exist', async () => {
  await pact
    .addInteraction()
    .given('no products exist')
    .uponReceiving('a request for a product that does not exist')
    .withRequest('GET', '/products/1', (req) => req.headers({ Accept: 'application/json' }))
    .willRespondWith(404, (res) => res.headers({ 'Content-Type': 'application/json' })
      .jsonBody({ error: like('product 1 not found') }))
    .executeTest(async (server) => {
      await assert.rejects(new ShopClient(server.url).product(1), (err) => err instanceof ShopError && err.status === 404);
    });
});

test('reads the signed-in user', async () => {
  await pact
    .addInteraction()
    .given('a user with email bob@shop.example exists', { email: 'bob@shop.example' })
    .uponReceiving('a request for the signed-in user')
    .withRequest('GET', '/auth/me', (req) => req.headers({
      Accept: 'application/json',
      // the token comes from the provider state (stackrig's state function returns {"token": ...})
      Authorization: fromProviderState('Bearer ${token}', 'Bearer eyJhbGciOiJIUzI1NiJ9.example.signature'),
    }))
    .willRespondWith(200, (res) => res.headers({ 'Content-Type': 'application/json' }).jsonBody({
      id: integer(2),
      email: 'bob@shop.example',
      name: string('Bob'),
      created_at: regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/, '2026-01-01T12:00:00.000000Z'),
    }))
    .executeTest(async (server) => {
      const me = await new ShopClient(server.url, { token: 'eyJhbGciOiJIUzI1NiJ9.example.signature' }).me();
      assert.equal(me.email, 'bob@shop.example');
    });
});
