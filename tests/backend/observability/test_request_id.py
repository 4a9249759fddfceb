"""Request ids: a client's safe id is echoed, anything else replaced, every reply carries one."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient


def test_generated_when_absent(client: TestClient[Litestar]) -> None:
    first = client.get("/health").headers["x-request-id"]
    second = client.get("/health").headers["x-request-id"]
    assert len(first) == 32
    assert first != second


def test_client_id_is_echoed(client: TestClient[Litestar]) -> None:
    assert client.get("/health", headers={"X-Request-ID": "abc-123.x"}).headers["x-request-id"] == "abc-123.x"


@pytest.mark.parametrize("bad", ["has space", "x" * 200, "new\\nline", "<script>"])
def test_unsafe_client_id_is_replaced(client: TestClient[Litestar], bad: str) -> None:
    echoed = client.get("/health", headers={"X-Request-ID": bad}).headers["x-request-id"]
    assert echoed != bad
    assert len(echoed) == 32


def test_even_unrouted_replies_carry_an_id(client: TestClient[Litestar]) -> None:
    response = client.get("/nowhere", headers={"X-Request-ID": "for-a-404"})
    assert response.headers["x-request-id"] == "for-a-404"
    assert response.json()["request_id"] == "for-a-404"
