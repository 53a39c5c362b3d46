"""The orders API: PostgreSQL for orders, Redis for a counter, RabbitMQ for events."""

import json
import os
from contextlib import asynccontextmanager

import aio_pika
import psycopg
import redis
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

DATABASE_URL = os.environ["DATABASE_URL"]
REDIS_URL = os.environ["REDIS_URL"]
AMQP_URL = os.environ["AMQP_URL"]
EXCHANGE = os.environ.get("ORDERS_EXCHANGE", "orders")

state: dict = {}


@asynccontextmanager
async def lifespan(app: FastAPI):
    state["cache"] = redis.Redis.from_url(REDIS_URL)
    state["amqp"] = await aio_pika.connect_robust(AMQP_URL)
    state["channel"] = await state["amqp"].channel()
    state["exchange"] = await state["channel"].get_exchange(EXCHANGE)
    yield
    await state["amqp"].close()


app = FastAPI(lifespan=lifespan)


class NewOrder(BaseModel):
    item: str
    quantity: int = 1


@app.get("/health")
def health():
    with psycopg.connect(DATABASE_URL) as conn:
        conn.execute("SELECT 1")
    state["cache"].ping()
    return {"status": "ok", "env": os.environ.get("APP_ENV")}


@app.post("/orders", status_code=201)
async def create_order(order: NewOrder):
    with psycopg.connect(DATABASE_URL) as conn:
        row = conn.execute("INSERT INTO orders (item, quantity) VALUES (%s, %s) RETURNING id",
                           (order.item, order.quantity)).fetchone()
    order_id = row[0]
    state["cache"].incr("orders:created")
    body = json.dumps({"id": order_id, "item": order.item, "quantity": order.quantity}).encode()
    await state["exchange"].publish(aio_pika.Message(body, content_type="application/json"),
                                    routing_key="order.created")
    return {"id": order_id}


@app.get("/orders/{order_id}")
def get_order(order_id: int):
    with psycopg.connect(DATABASE_URL) as conn:
        row = conn.execute("SELECT id, item, quantity FROM orders WHERE id = %s", (order_id,)).fetchone()
    if row is None:
        raise HTTPException(404)
    return {"id": row[0], "item": row[1], "quantity": row[2], "created": int(state["cache"].get("orders:created") or 0)}
