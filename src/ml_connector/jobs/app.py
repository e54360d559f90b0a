"""The Procrastinate app of a database: its connector and ml-connector's tasks.

One function builds it, so the worker, the scheduler and anything else that defers a job (a
test, later the console) talk to the same queue with the same task names::

    app = job_app(settings.database_url)
    async with app.open_async():
        await defer_sync(app, "acme")

Procrastinate runs on PostgreSQL only; for a SQLite URL this raises
:class:`~ml_connector.errors.ConfigError` pointing at ``ml-connector run``. Its connection pool
stays small (the jobs' own work goes through the store's pool): one connection listens for new
jobs, the others fetch jobs, beat the heart and record outcomes.
"""

from __future__ import annotations

from procrastinate import App, PsycopgConnector

from ml_connector.jobs.schema import libpq_url
from ml_connector.jobs.tasks import register_tasks

__all__ = ["POOL_MAX", "job_app"]

POOL_MAX = 4


def job_app(database_url: str) -> App:
    """The app for ``database_url`` (a PostgreSQL store URL), with every task declared."""
    connector = PsycopgConnector(conninfo=libpq_url(database_url), min_size=1, max_size=POOL_MAX)
    app = App(connector=connector)
    register_tasks(app)
    return app
