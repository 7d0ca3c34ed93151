"""The rate gate: a token closed by one 429 stays closed for every caller — in one process,
and across processes (Celery workers) through the broker's Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from beffroi.connectors.base import RateLimited
from beffroi.connectors.http import ApiClient, RateGate
from tests.fakes.loopback import LoopbackServer, RecordedRequest, Reply

REDIS_URL = os.environ.get("BEFFROI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {REDIS_URL}")


@pytest.fixture
def shared_gates() -> Iterator[tuple[RateGate, RateGate]]:
    """Two gates, as two worker processes would hold, sharing one Redis."""
    _redis_or_skip()
    prefix = f"beffroi-test:{uuid.uuid4().hex}:"
    first, second = RateGate(), RateGate()
    first.share(REDIS_URL, prefix)
    second.share(REDIS_URL, prefix)
    yield first, second
    first.clear()


def test_a_closed_token_stays_closed_until_its_time_and_the_later_closure_wins() -> None:
    gate = RateGate()
    assert gate.wait_left("x:1") == 0
    gate.close("x:1", 30)
    gate.close("x:1", 5)  # shorter: does not reopen earlier
    assert 29 < gate.wait_left("x:1") <= 30
    with pytest.raises(RateLimited) as raised:
        gate.check("x:1", "X")
    assert raised.value.retry_after is not None and raised.value.retry_after > 29
    gate.check("x:2", "X")  # another token is open
    gate.clear()
    assert gate.wait_left("x:1") == 0


@pytest.mark.redis
def test_one_workers_closure_closes_the_token_for_the_others(
    shared_gates: tuple[RateGate, RateGate],
) -> None:
    first, second = shared_gates
    first.close("youtube:project-quota", 120)
    assert 118 < second.wait_left("youtube:project-quota") <= 120
    second.close("youtube:project-quota", 10)  # shorter: the longer one stays
    assert first.wait_left("youtube:project-quota") > 118
    with pytest.raises(RateLimited):
        second.check("youtube:project-quota", "YouTube")
    first.clear()  # the shared closure is gone; the second worker's own 10 s remain
    assert second.wait_left("youtube:project-quota") <= 10


def test_an_unreachable_shared_store_leaves_the_gate_working_in_the_process() -> None:
    gate = RateGate()
    gate.share("redis://127.0.0.1:1/0")
    gate.close("x:1", 30)
    with pytest.raises(RateLimited):
        gate.check("x:1", "X")
    assert gate.wait_left("x:2") == 0


class _Limited(LoopbackServer):
    def handle(self, request: RecordedRequest) -> Reply:
        return Reply(429, {"error": "slow down"}, {"Retry-After": "60"})


@pytest.mark.redis
def test_a_429_in_one_worker_spares_the_platform_a_request_from_the_other(
    shared_gates: tuple[RateGate, RateGate],
) -> None:
    first, second = shared_gates
    with _Limited() as server:
        clients = [
            ApiClient(server.base_url, label="P", key="p:token", gate=gate, retries=0)
            for gate in (first, second)
        ]
        with pytest.raises(RateLimited):
            clients[0].get("/items")
        assert len(server.requests) == 1
        with pytest.raises(RateLimited, match="resets in"):
            clients[1].get("/items")
        assert len(server.requests) == 1  # the second worker did not ask
        for client in clients:
            client.close()
