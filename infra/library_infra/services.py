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
    # Prometheus metrics (library_common.metrics), on loopback inside the task (a collector sidecar's to scrape):
    # never a port the load balancer or the security groups open. The worker's task uses the same number.
    metrics_port: int = 0

    @property
    def internal_url(self):
        """How the other services reach it: service discovery, never the public load balancer."""
        return f"http://{self.name}.{NAMESPACE}:{self.port}{self.path_prefix or ''}"

    @property
    def health_path(self):
        return f"{self.path_prefix or ''}/health"


SERVICES = (
    ServiceSpec("books", 5000, "/api/books", database="books", neighbours=("borrows", "users"), worker="books_service",
                metrics_port=9100),
    ServiceSpec("users", 5001, "/api/users", database="users", metrics_port=9101),
    ServiceSpec("borrows", 5002, "/api/borrows", database="borrows", neighbours=("books", "users"),
                worker="borrow_service", metrics_port=9102),
    ServiceSpec("notifications", 5003, "/api/notifications", database="notifications", neighbours=("users", "borrows"),
                worker="notification_service", metrics_port=9103),
    ServiceSpec("web", 8000, None, neighbours=("books", "users", "borrows", "notifications"), metrics_port=9104),
)
BY_NAME = {spec.name: spec for spec in SERVICES}
NEIGHBOUR_SETTINGS = {"books": "BOOKS_SERVICE_URL", "users": "USER_SERVICE_URL", "borrows": "BORROW_SERVICE_URL",
                      "notifications": "NOTIFICATION_SERVICE_URL"}
