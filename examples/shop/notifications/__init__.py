"""The notifications worker: e-mails the customer when an order is paid or cancelled.

It consumes ``orders.paid`` and ``orders.cancelled`` from the ``SHOP`` stream through two durable
pull consumers (declared in stackrig.toml) and sends one e-mail per order and outcome through
SMTP.  Idempotent: it remembers in Redis (``notified:<subject>:<order_id>``, a day) what it sent,
so a redelivered event sends nothing; an e-mail that could not be sent is not acknowledged, and
comes back a second later.  Run it with ``python -m notifications`` (NATS_URL, REDIS_URL,
SMTP_HOST, SMTP_PORT; SMTP_FROM optional).
"""
