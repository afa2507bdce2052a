"""Container health probe: exit 0 when the server's ``grpc.health.v1`` status is SERVING, else 1.

Usage: ``python healthcheck.py [HOST:PORT] [SERVICE]`` (default ``127.0.0.1:50051`` and the server as a
whole); ``LAUGHTER_HEALTH_ADDRESS`` overrides the default address. Plaintext only: put the probe on the
container's own loopback port.
"""

from __future__ import annotations

import os
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

TIMEOUT_S = 3.0


def main(argv: list[str]) -> int:
    address = argv[1] if len(argv) > 1 else os.environ.get("LAUGHTER_HEALTH_ADDRESS", "127.0.0.1:50051")
    service = argv[2] if len(argv) > 2 else ""
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=TIMEOUT_S)
        except grpc.RpcError as error:
            sys.stderr.write(f"{address}: {error.code().name}\n")
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    sys.stdout.write(f"{address}: {status}\n")
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
