"""What the workers retry: transient trouble only (workers/errors.py decides, for every actor);
a missing row ends its message at once."""

import dramatiq
import pytest
import redis
from dramatiq.middleware.time_limit import TimeLimitExceeded
from sqlalchemy.exc import OperationalError

from tests.conftest import wait_for
from workers.errors import (
    BACKSTOP_RETRIES,
    EmailDoesNotExist,
    PermanentDeliveryError,
    TransientDeliveryError,
    retry_when,
)


class Outcomes(dramatiq.Middleware):
    """Each message the worker processed (with the exception it ended with), and each it
    failed for good (nacked: Dramatiq's dead letters)."""

    def __init__(self):
        self.processed: list[tuple[str, BaseException | None]] = []
        self.dead: list[str] = []

    def after_process_message(self, broker, message, *, result=None, exception=None):
        self.processed.append((message.message_id, exception))

    def after_nack(self, broker, message):
        self.dead.append(message.message_id)


@pytest.fixture
def outcomes(broker):
    middleware = Outcomes()
    broker.add_middleware(middleware)
    yield middleware
    broker.middleware.remove(middleware)


@pytest.mark.parametrize("actor_name", ["email.render", "email.send"])
def test_an_email_that_does_not_exist_is_tried_once_and_never_retried(
    broker, worker, outcomes, actor_name
):
    import workers.actors  # noqa: F401  (binds the actors to the broker)

    message = broker.get_actor(actor_name).send(987654321)  # no such email
    wait_for(lambda: message.message_id in outcomes.dead, what="the message to be given up")
    attempts = [exc for message_id, exc in outcomes.processed if message_id == message.message_id]
    assert len(attempts) == 1
    assert isinstance(attempts[0], EmailDoesNotExist)
    # Dead-lettered in Redis itself, not parked on the delay queue for another attempt.
    redis_id = message.options["redis_message_id"]
    assert broker.client.zscore("dramatiq:email.XQ", redis_id) is not None
    assert broker.client.hlen("dramatiq:email.DQ.msgs") == 0


@pytest.mark.parametrize(
    "exception",
    [
        OperationalError("SELECT 1", {}, Exception("server closed the connection")),
        ConnectionRefusedError(111, "Connection refused"),
        OSError(28, "No space left on device"),
        redis.exceptions.ConnectionError("Connection reset by peer"),
        TransientDeliveryError("451 4.3.0 try again later"),
        dramatiq.Retry("backoff", delay=10),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_transient_trouble_is_retried_up_to_the_backstop(exception):
    assert retry_when(0, exception)
    assert retry_when(BACKSTOP_RETRIES - 1, exception)
    assert not retry_when(BACKSTOP_RETRIES, exception)


@pytest.mark.parametrize(
    "exception",
    [
        EmailDoesNotExist("email 7 does not exist"),
        PermanentDeliveryError("550 5.1.1 no such user"),
        ValueError("a bug"),
        TimeLimitExceeded(),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_anything_else_ends_the_message_at_once(exception):
    assert not retry_when(0, exception)


def test_every_actor_asks_the_one_rule(broker):
    import workers.actors  # noqa: F401

    names = ["email.render", "email.send", "inbound.process"]
    assert {broker.get_actor(name).options.get("retry_when") for name in names} == {retry_when}
    assert all("max_retries" not in broker.get_actor(name).options for name in names)
