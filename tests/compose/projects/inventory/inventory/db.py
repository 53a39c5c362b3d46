import os

import psycopg


def connect() -> psycopg.Connection:
    return psycopg.connect(host=os.environ["DB_HOST"], port=int(os.environ.get("DB_PORT", "5432")),
                           user=os.environ["DB_USER"], password=os.environ["DB_PASSWORD"],
                           dbname=os.environ["DB_NAME"], autocommit=True)
