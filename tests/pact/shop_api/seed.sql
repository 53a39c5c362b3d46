INSERT INTO products (name, description, price_cents) VALUES
    ('Espresso cup', 'Porcelain, 80 ml', 1200),
    ('Grinder', 'Conical burr grinder', 8900);
