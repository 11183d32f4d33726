"""What `dramatiq workers.worker` loads: the broker first, then the actor modules."""

from web.config import INSTANCE_DIR
from workers.broker import redis_url, setup_broker

broker = setup_broker(redis_url(INSTANCE_DIR))
