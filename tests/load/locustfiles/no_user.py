"""Imports Locust, defines tasks, but no User class to run them."""

from locust import HttpUser, task


class Base(HttpUser):
    abstract = True

    @task
    def home(self) -> None:
        self.client.get("/")


def helper() -> None:
    pass
