"""Training and evaluation of the service's models (``laughter-train``, ``laughter-eval``); never imported by the server."""
