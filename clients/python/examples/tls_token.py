"""Connect with TLS and a bearer token, check the server, list its models and analyse a file.

    LAUGHTER_ADDRESS=laughter.example.com:443 LAUGHTER_CA_FILE=ca.pem LAUGHTER_AUTH_TOKEN=secret \
        python tls_token.py samples/sample.mp4

``ClientOptions.from_env()`` reads LAUGHTER_ADDRESS, LAUGHTER_AUTH_TOKEN, LAUGHTER_TLS and the PEM files
LAUGHTER_CA_FILE, LAUGHTER_CERT_FILE and LAUGHTER_KEY_FILE (the last two for mutual TLS).
Exits 1 when a call fails (a wrong token: UnauthenticatedError), 2 on a usage error.
"""

from __future__ import annotations

import sys

import laughter


def main(argv: list[str]) -> int:
    """Check the server, list its models and analyse ``argv[0]`` over TLS with the token."""
    if len(argv) != 1:
        sys.stderr.write("usage: tls_token.py FILE\n")
        return 2
    options = laughter.ClientOptions.from_env(tls=True)
    try:
        with laughter.LaughterClient(options=options) as client:
            print(f"{client.address}: {client.health(timeout_s=10).value}")
            for model in client.list_models(timeout_s=10):
                print(f"model {model.name} version {model.version} ({model.backend})")
            result = client.analyze_file(argv[0])
    except laughter.UnauthenticatedError as exc:
        sys.stderr.write(f"the server refused the token: {exc.message}\n")
        return 1
    except laughter.LaughterError as exc:
        sys.stderr.write(f"call failed: {exc!r}\n")
        return 1
    print(f"{len(result.events)} events, dominant type {result.summary.dominant_laughter_type.value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
