"""A local S3 server (moto, on 127.0.0.1) and a fresh bucket per test.

Fake AWS credentials are set in the environment for the session only: the code under test finds
them the way it finds real ones, and nothing ever leaves the loopback interface.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class S3Bucket:
    """A bucket on the test server: ``url`` is ``s3://bucket/prefix``."""

    endpoint_url: str
    bucket: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)

    def fs(self) -> Any:
        import s3fs

        return s3fs.S3FileSystem(endpoint_url=self.endpoint_url, skip_instance_cache=True)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a moto S3 server running for the whole session."""
    from moto.server import ThreadedMotoServer

    saved = {k: os.environ.get(k) for k in FAKE_AWS}
    os.environ.update(FAKE_AWS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> S3Bucket:
    """A new, empty bucket; the artifact store URL points at a prefix inside it."""
    name = f"zw-{uuid.uuid4().hex[:12]}"
    bucket = S3Bucket(
        s3_endpoint, name, f"s3://{name}/team/artifacts", {"endpoint_url": s3_endpoint}
    )
    bucket.fs().mkdir(name)
    return bucket
