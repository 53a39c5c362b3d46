-- Schema of the shop's database (the API's).  Applied once by stackrig's postgres `init`;
-- the application never creates or alters tables itself.  Stock is not here: the inventory
-- service owns it, in its own database (inventory/schema.sql).

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text        NOT NULL UNIQUE,          -- stored lower-case
    name          text        NOT NULL,
    password_hash text        NOT NULL,                 -- bcrypt
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The catalogue.  A product's initial stock goes to the inventory service (`products.created`).
CREATE TABLE products (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    price_cents integer     NOT NULL CHECK (price_cents >= 0),
    weight_g    integer     NOT NULL DEFAULT 500 CHECK (weight_g >= 0),   -- for the shipping quote
    image_key   text,                                   -- the S3 key of its image, if it has one
    image_type  text,                                   -- the image's content type
    version     integer     NOT NULL DEFAULT 1,         -- optimistic locking: bumped on every change
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The saga's states: pending ─▶ reserved ─▶ paid ─▶ fulfilled
--                            ╰▶ rejected   ╰▶ cancelled (payment declined or failed)
CREATE TABLE orders (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status         text        NOT NULL DEFAULT 'pending'
                               CHECK (status IN ('pending', 'reserved', 'rejected', 'paid', 'cancelled', 'fulfilled')),
    reason         text,                                -- why it was rejected or cancelled
    subtotal_cents integer     NOT NULL CHECK (subtotal_cents >= 0),
    shipping_cents integer     NOT NULL DEFAULT 0 CHECK (shipping_cents >= 0),   -- the shipping service's quote
    total_cents    integer     NOT NULL CHECK (total_cents >= 0),                -- subtotal + shipping
    currency       text        NOT NULL DEFAULT 'EUR',
    country        text        NOT NULL DEFAULT 'DE',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_id_idx ON orders (user_id);

CREATE TABLE order_items (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id         bigint  NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    -- SET NULL keeps the order history when a product is deleted; the name and
    -- price are copied at order time.
    product_id       bigint  REFERENCES products (id) ON DELETE SET NULL,
    product_name     text    NOT NULL,
    quantity         integer NOT NULL CHECK (quantity > 0),
    unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0)
);
CREATE INDEX order_items_order_id_idx ON order_items (order_id);
CREATE INDEX order_items_product_id_idx ON order_items (product_id);

-- Every status an order has had, in order: what /ws/orders/{id} replays before the live changes.
CREATE TABLE order_status_history (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id   bigint      NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    status     text        NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_status_history_order_id_idx ON order_status_history (order_id, id);

CREATE TABLE payments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id     bigint      NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
    amount_cents integer     NOT NULL CHECK (amount_cents >= 0),
    currency     text        NOT NULL,
    charge_id    text,                                  -- the gateway's id for the charge, if it sent one
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Events to publish, written in the same transaction as the change they announce (the
-- transactional outbox): the API's publisher sends them to JetStream with Nats-Msg-Id = msg_id
-- (a retried publish is stored once) and deletes them when the stream has acknowledged them.
-- While the bus is down they wait here.
CREATE TABLE outbox (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msg_id     uuid        NOT NULL DEFAULT gen_random_uuid(),
    subject    text        NOT NULL,
    payload    jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
