-- Baseline data of the shop: every test starts from exactly this (stackrig resets it after each test).
-- ann@shop.example's password is "correct horse battery".  The products' stock is in the inventory
-- database's seed (inventory/seed.sql): 25, 5 and 40.
INSERT INTO users (email, name, password_hash) VALUES
    ('ann@shop.example', 'Ann Example', '$2b$04$mYLHsmPlBemyqfcuNZxRvO7nmJlqS/AdlnpIeyRoHMnz/pYL/W36y');

INSERT INTO products (name, description, price_cents, weight_g) VALUES
    ('Espresso cup', 'Porcelain, 80 ml', 1200, 150),
    ('Grinder', 'Conical burr grinder', 8900, 2400),
    ('Beans 1 kg', 'Single origin', 2400, 1000);
