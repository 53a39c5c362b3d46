"""Create the schema (run once by compose before the web app starts)."""

from .db import connect

with connect() as conn:
    conn.execute("CREATE TABLE IF NOT EXISTS items (sku text PRIMARY KEY, stock integer NOT NULL DEFAULT 0)")
    conn.execute("INSERT INTO items VALUES ('apple', 3) ON CONFLICT DO NOTHING")
print("migrated")
