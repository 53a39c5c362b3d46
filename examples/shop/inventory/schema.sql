-- Schema of the inventory service's own database (`databases.inventory` of the `db` service).
-- Applied once by stackrig's postgres `init`; the service never creates tables itself.

-- What can be sold: `available` units on the shelf, `reserved` units held for orders not yet paid.
CREATE TABLE stock (
    product_id bigint      PRIMARY KEY,                 -- the shop's product id
    available  integer     NOT NULL CHECK (available >= 0),
    reserved   integer     NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per order the service has seen: its `orders.created` event is handled once
-- (a redelivered event finds the row and changes nothing).
CREATE TABLE reservations (
    order_id   bigint      PRIMARY KEY,
    status     text        NOT NULL CHECK (status IN ('reserved', 'rejected', 'released', 'sold')),
    reason     text,                                    -- why it was rejected
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservation_items (
    order_id   bigint  NOT NULL REFERENCES reservations (order_id) ON DELETE CASCADE,
    product_id bigint  NOT NULL,
    quantity   integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id)
);

-- Events to publish, written in the same transaction as the change they announce; a publisher
-- sends them to JetStream (with Nats-Msg-Id = msg_id, so a retried publish is stored once)
-- and deletes them once the stream has acknowledged them.
CREATE TABLE outbox (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msg_id     uuid        NOT NULL DEFAULT gen_random_uuid(),
    subject    text        NOT NULL,
    payload    jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
