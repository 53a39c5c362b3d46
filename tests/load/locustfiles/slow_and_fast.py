"""Three in four requests to the stub's /slow (a fixed 50 ms delay), one to /fast (none)."""

from locust import HttpUser, task


class Visitor(HttpUser):
    @task(3)
    def slow(self) -> None:
        self.client.get("/slow")

    @task
    def fast(self) -> None:
        self.client.get("/fast")
