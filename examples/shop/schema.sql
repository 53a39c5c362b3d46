-- Schema of the example shop.  Applied once by stackrig's postgres `init`;
-- the application never creates or alters tables itself.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text        NOT NULL UNIQUE,          -- stored normalised (lower-case domain)
    name          text        NOT NULL,
    password_hash text        NOT NULL,                 -- bcrypt
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE products (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    price_cents integer     NOT NULL CHECK (price_cents >= 0),
    stock       integer     NOT NULL CHECK (stock >= 0),
    version     integer     NOT NULL DEFAULT 1,         -- optimistic locking: bumped on every change
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status      text        NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'paid', 'fulfilled')),
    total_cents integer     NOT NULL CHECK (total_cents >= 0),
    currency    text        NOT NULL DEFAULT 'EUR',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
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

CREATE TABLE payments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id     bigint      NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
    amount_cents integer     NOT NULL CHECK (amount_cents >= 0),
    currency     text        NOT NULL,
    charge_id    text,                                  -- the gateway's id for the charge, if it sent one
    created_at   timestamptz NOT NULL DEFAULT now()
);
