"""Batch jobs on Celery with a Redis broker (the ``batch`` extra): ``laughter batch submit|status|results``
queues and follows jobs, ``laughter-worker`` analyses their files on laughter servers.

Modules: ``app`` (the Celery application and its delivery settings), ``jobs`` (job records in Redis),
``tasks`` (what a worker does with one file), ``worker`` (the ``laughter-worker`` command), ``cli`` (the
``laughter batch`` subcommands) and ``inputs`` (folders, manifests and files to submit). Importing this
package imports neither Celery nor Redis.
"""
