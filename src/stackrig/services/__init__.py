"""Service kinds: how each kind of service becomes running processes."""

from ._base import Instance, RunContext, Service
from ._postgres import PostgresService
from ._process import HttpStubService, ProcessService, SmtpService
from ._redis import RedisService

__all__ = ["Instance", "RunContext", "Service", "SERVICE_TYPES", "PostgresService", "RedisService",
           "ProcessService", "HttpStubService", "SmtpService"]

SERVICE_TYPES: dict[str, type[Service]] = {
    "postgres": PostgresService,
    "redis": RedisService,
    "process": ProcessService,
    "http-stub": HttpStubService,
    "smtp": SmtpService,
}
