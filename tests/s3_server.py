"""A real S3 API on loopback for the tests: moto's server mode (werkzeug, in a thread), started once.

``s3_server()`` starts it on a free port the first time it is called in the session (fails under
CI=true, skips locally, when moto is not installed); ``fresh_bucket(server)`` makes an empty bucket
of its own for one test or one deployment, so tests never see each other's objects; ``s3_settings``
gives the ``Settings`` overrides that point the platform at it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from tests.conftest import require

REGION = "us-east-1"
ACCESS_KEY = "nagovori-test"
SECRET_KEY = "nagovori-test-secret"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    server: Any

    def client(self) -> Any:
        """A synchronous boto client on the server (to create buckets, inspect objects)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )


_server: S3Server | None = None


def s3_server() -> S3Server:
    """The session's moto server (started on first use; stopped when the process ends)."""
    global _server
    if _server is None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:  # pragma: no cover - depends on the environment
            require(False, f"moto[server] is not installed: {exc}")
            raise
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        _server = S3Server(endpoint=f"http://{host}:{port}", server=server)
    return _server


def stop_s3_server() -> None:
    global _server
    if _server is not None:
        _server.server.stop()
        _server = None


def fresh_bucket(server: S3Server) -> str:
    """An empty bucket of its own."""
    name = f"nagovori-{uuid.uuid4().hex[:12]}"
    server.client().create_bucket(Bucket=name)
    return name


def s3_settings(server: S3Server, bucket: str, **overrides: Any) -> dict[str, Any]:
    """``Settings`` fields (or, upper-cased with ``NAGOVORI_``, environment) for the bucket."""
    return {
        "s3_endpoint": server.endpoint,
        "s3_bucket": bucket,
        "s3_region": REGION,
        "s3_access_key_id": ACCESS_KEY,
        "s3_secret_access_key": SECRET_KEY,
        "s3_path_style": True,
        **overrides,
    }


def s3_environment(server: S3Server, bucket: str) -> dict[str, str]:
    """The same as environment variables, for server processes."""
    return {
        f"NAGOVORI_{name.upper()}": ("true" if value is True else str(value))
        for name, value in s3_settings(server, bucket).items()
    }
