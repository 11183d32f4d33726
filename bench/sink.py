"""An SMTP sink in its own process: takes every message, keeps only how often each
Message-ID arrived, and writes those counts as JSON when it is told to stop (SIGTERM).

`python -m bench.sink PORT COUNTS_FILE`
"""

import asyncio
import json
import re
import signal
import sys
from collections import Counter

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)


class CountingSink:
    def __init__(self):
        self.counts: Counter[str] = Counter()

    async def handle_DATA(self, server, session, envelope):
        head = (envelope.original_content or envelope.content)[:8192]
        match = MESSAGE_ID.search(head)
        self.counts[match.group(1).decode() if match else "(none)"] += 1
        return "250 2.0.0 Ok: queued"


def main() -> None:
    port, counts_file = int(sys.argv[1]), sys.argv[2]
    sink = CountingSink()
    # No size limit: the sink takes whatever a real server would.
    controller = Controller(sink, hostname="127.0.0.1", port=port, data_size_limit=0)
    controller.start()
    stopped = asyncio.Event()
    loop = asyncio.new_event_loop()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    print("sink ready", flush=True)
    loop.run_until_complete(stopped.wait())
    controller.stop()
    with open(counts_file, "w") as out:
        json.dump(dict(sink.counts), out)


if __name__ == "__main__":
    main()
