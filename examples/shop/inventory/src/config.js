"use strict";
// Settings, read once from the environment (stackrig's exports): a missing one stops the service
// at start-up with a message naming it.

function required(env, name) {
  const value = env[name];
  if (!value) {
    throw new Error(`environment variable ${name} is required but is not set (or empty); ` +
      `set it in the service's env in stackrig.toml`);
  }
  return value;
}

function fromEnv(env = process.env) {
  const port = Number.parseInt(env.PORT || "8081", 10);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`environment variable PORT must be a port number, found ${JSON.stringify(env.PORT)}`);
  }
  return {
    host: env.HOST || "127.0.0.1",
    port,
    databaseUrl: required(env, "DATABASE_URL"),
    natsUrl: required(env, "NATS_URL"),
    stream: env.INVENTORY_CONSUMER_STREAM || "SHOP",
    consumer: env.INVENTORY_CONSUMER || "inventory",
  };
}

module.exports = { fromEnv };
