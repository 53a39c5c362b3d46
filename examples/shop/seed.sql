-- Baseline data of the shop: every test starts from exactly this (stackrig resets it after each test).
-- ann@shop.example's password is "correct horse battery".
INSERT INTO users (email, name, password_hash) VALUES
    ('ann@shop.example', 'Ann Example', '$2b$04$mYLHsmPlBemyqfcuNZxRvO7nmJlqS/AdlnpIeyRoHMnz/pYL/W36y');

INSERT INTO products (name, description, price_cents, stock) VALUES
    ('Espresso cup', 'Porcelain, 80 ml', 1200, 25),
    ('Grinder', 'Conical burr grinder', 8900, 5),
    ('Beans 1 kg', 'Single origin', 2400, 40);
