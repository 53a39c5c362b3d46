"""Fails while it is imported, as a Locust file with a missing dependency does."""

import stackrig_no_such_module  # noqa: F401
from locust import HttpUser, task


class Visitor(HttpUser):
    @task
    def home(self) -> None:
        self.client.get("/")
