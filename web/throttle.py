"""Login throttling: too many failed sign-ins for one account, or from one client address,
and further attempts are refused for a while (counted in Redis, shared by every web process).
"""

import hashlib
from dataclasses import dataclass

from workers.broker import current_broker

MAX_FAILURES = 10
WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class Throttle:
    """The failure counters of one sign-in attempt: its account and its client address."""

    account: str
    address: str

    def _keys(self) -> list[str]:
        account = hashlib.sha256(self.account.strip().lower().encode()).hexdigest()
        return [
            f"claimpost:login-failures:account:{account}",
            f"claimpost:login-failures:address:{self.address}",
        ]

    def retry_after(self) -> int:
        """0 if the attempt may go ahead, else the seconds until it may."""
        client = current_broker().client
        waits = []
        for key in self._keys():
            count = client.get(key)
            if count is not None and int(count) >= MAX_FAILURES:
                waits.append(max(client.ttl(key), 1))
        return max(waits, default=0)

    def failed(self) -> None:
        """Count a failure against the account and the address, for WINDOW_SECONDS."""
        pipe = current_broker().client.pipeline()
        for key in self._keys():
            # The window starts at the first failure (SET NX; INCR keeps the expiry). Redis 6
            # (the embedded one) has no EXPIRE ... NX.
            pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
            pipe.incr(key)
        pipe.execute()

    def succeeded(self) -> None:
        """A right password clears the account's count (not the address's: one account's
        success must not reset guesses at others from the same place)."""
        current_broker().client.delete(self._keys()[0])
