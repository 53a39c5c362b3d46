-- Baseline stock of the shop's three seed products (seed.sql of the shop's database).
INSERT INTO stock (product_id, available) VALUES (1, 25), (2, 5), (3, 40);
