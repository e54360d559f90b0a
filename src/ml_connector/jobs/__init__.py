"""Jobs on PostgreSQL: many connections on many workers (Procrastinate).

The embedded default, ``ml-connector run``, syncs every connection in one process. For more,
the same use cases run as Procrastinate jobs in the database, and any number of worker
processes on any number of machines take them:

- :mod:`~ml_connector.jobs.schema` applies Procrastinate's schema and migrations beside ours
  (``ml-connector db upgrade``);
- :mod:`~ml_connector.jobs.defer` puts work in the queue, one waiting job per piece of work
  (queueing locks) and one job per schedule slot;
- :mod:`~ml_connector.jobs.tasks` are the tasks (sync, replay, alerts), thin over the use cases;
- :mod:`~ml_connector.jobs.app` builds the Procrastinate app of a database;
- :mod:`~ml_connector.jobs.worker` runs jobs (``ml-connector worker``);
- :mod:`~ml_connector.jobs.scheduler` queues each connection's sync when its schedule says
  (``ml-connector scheduler``);
- :mod:`~ml_connector.jobs.asking` queues a pass asked for on the command line (``--queue``);
- :mod:`~ml_connector.jobs.recovery` runs a dead worker's jobs again and forgets old ones;
- :mod:`~ml_connector.jobs.pacer` and :mod:`~ml_connector.jobs.slots` are the throttles every
  worker shares: Cin7's pacer per application key, QAD's in-flight slots per tenant.

Mutual exclusion is not the queue's: two passes over one connection never overlap because each
pass holds the connection's lock (:mod:`ml_connector.usecases.lock`), whoever runs it.
"""
