"""Python client for the laughter.v1 API; the generated stubs live in :mod:`laughter.v1`."""
