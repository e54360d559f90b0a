"""The operator console: FastAPI pages and JSON API, Prometheus metrics, health checks.

    app = create_app(store, ConsoleConfig(behind_https=True))

`ml-connector serve` (:mod:`ml_connector.web.serve`) opens the store and runs it with uvicorn.
"""

from ml_connector.web.app import create_app
from ml_connector.web.context import ConsoleConfig

__all__ = ["ConsoleConfig", "create_app"]
