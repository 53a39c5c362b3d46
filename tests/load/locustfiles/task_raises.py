"""One task makes a request, the other raises: an exception in a task is not a failed request."""

from locust import HttpUser, constant, task


class Visitor(HttpUser):
    wait_time = constant(0.05)

    @task
    def fast(self) -> None:
        self.client.get("/fast")

    @task
    def oops(self) -> None:
        raise ZeroDivisionError("the task's own bug")
