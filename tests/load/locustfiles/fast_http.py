"""A FastHttpUser (geventhttpclient) on /fast and /broken (500) of the process app, named requests."""

from locust import FastHttpUser, constant, task


class Shopper(FastHttpUser):
    wait_time = constant(0.01)

    @task(3)
    def items(self) -> None:
        self.client.get("/items", name="items")

    @task
    def broken(self) -> None:
        self.client.get("/broken", name="broken")
