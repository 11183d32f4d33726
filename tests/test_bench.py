"""The benchmark's harness runs (`make bench` is outside `make test`): every step of it, on a
few rows, with real processes, and it writes every figure the issue asks for."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_harness_runs_every_measurement_and_loses_or_doubles_no_email(tmp_path):
    output = tmp_path / "results.json"
    # SQLite and an embedded Redis of its own: the suite's PostgreSQL schema and Redis
    # queues are in use by the other tests.
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "TEST_DATABASE_URL")}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--databases", "sqlite", "--output", output],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads(output.read_text())["databases"]["sqlite"]
    assert set(results) == {
        "ceiling",
        "end_to_end",
        "latency",
        "replies",
        "memory",
        "exactly_once",
        "render",
        "back_office",
    }
    assert results["ceiling"]["message_bytes"] > 10_000  # a real rendered claim email
    assert results["end_to_end"]["emails"] == 12
    assert results["exactly_once"] == {"emails": 4 + 12 + 8, "missing": 0, "duplicated": 0}
    assert results["replies"]["statuses"] == {"matched": 12}
    assert set(results["back_office"]["pages"]) == {
        "outbox",
        "outbox_search",
        "inbound",
        "emails_tab",
        "dashboard",
        "api_claim_emails",
    }
    for figure in ("SMTP ceiling", "end to end", "queued->sent", "render", "replies", "RSS"):
        assert figure in done.stdout
