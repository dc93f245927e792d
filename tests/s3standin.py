"""moto's S3 server, standing in for a real object store in a process of its own.

The backend talks to it over HTTP exactly as it would to AWS S3, MinIO or Ceph. One
server serves the whole run; each test makes a bucket of its own.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

ACCESS_KEY, SECRET_KEY = "standin-access-key", "standin-secret-key"
MOTO_SERVER = Path(sys.executable).with_name("moto_server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(process: subprocess.Popen[bytes], endpoint: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"moto_server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{endpoint}/moto-api/", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"moto_server did not answer on {endpoint} within 30 s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def moto_s3_standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An S3-compatible server in a process of its own, for the module.

    moto stands in for a real object store (AWS S3, MinIO, Ceph ...): the backend talks to
    it over HTTP exactly as it would in production. Returns the endpoint URL.
    """
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "server.log"
    endpoint = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(process, endpoint, log)
            yield endpoint
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def s3_admin(moto_s3_standin: str) -> Iterator[Any]:
    """A plain boto3 client on the stand-in, to make buckets and look behind the backend."""
    client = boto3.client(
        "s3",
        endpoint_url=moto_s3_standin,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    yield client
    client.close()


def new_bucket(admin: Any) -> str:
    name = f"bandstand-{uuid.uuid4().hex[:12]}"
    admin.create_bucket(Bucket=name)
    return name
