"""The containers: what each one is called, listens on, needs, and which worker runs beside it."""

from dataclasses import dataclass

NAMESPACE = "library.internal"


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # also the image repository and the service-discovery name
    port: int
    path_prefix: str | None  # where the load balancer routes it; None: the default (the web pages)
    database: str | None = None
    neighbours: tuple[str, ...] = ()
    worker: str | None = None  # the package whose worker runs beside it (library_common.worker), if any

    @property
    def internal_url(self):
        """How the other services reach it: service discovery, never the public load balancer."""
        return f"http://{self.name}.{NAMESPACE}:{self.port}{self.path_prefix or ''}"

    @property
    def health_path(self):
        return f"{self.path_prefix or ''}/health"


SERVICES = (
    ServiceSpec("books", 5000, "/api/books", database="books", neighbours=("borrows", "users"), worker="books_service"),
    ServiceSpec("users", 5001, "/api/users", database="users"),
    ServiceSpec("borrows", 5002, "/api/borrows", database="borrows", neighbours=("books", "users"),
                worker="borrow_service"),
    ServiceSpec("notifications", 5003, "/api/notifications", database="notifications", neighbours=("users", "borrows"),
                worker="notification_service"),
    ServiceSpec("web", 8000, None, neighbours=("books", "users", "borrows", "notifications")),
)
BY_NAME = {spec.name: spec for spec in SERVICES}
NEIGHBOUR_SETTINGS = {"books": "BOOKS_SERVICE_URL", "users": "USER_SERVICE_URL", "borrows": "BORROW_SERVICE_URL",
                      "notifications": "NOTIFICATION_SERVICE_URL"}
