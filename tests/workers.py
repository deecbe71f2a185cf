"""A real task worker for the tests that need one: ``huey_consumer`` in its own process, on
a test database and a task queue in a SQLite file, polling every tenth of a second."""

import os
import subprocess
import sys
import time

from tests.conftest import base_test_config


def start_worker(database_url: str, queue_file, periodic: bool = True,
                 settings: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``huey_consumer pb_vote.worker.huey`` with the tests' secrets (stop it with
    ``terminate``); without ``periodic``, it runs no task of the minute. ``settings`` are
    more of its configuration (``{"MAIL_DELIVERY": "queue"}``...)."""
    config = base_test_config(database_url)
    env = {**os.environ, "PB_VOTE_TASK_QUEUE": f"sqlite:///{queue_file}",
           **{f"PB_VOTE_{key}": value for key, value in (settings or {}).items()}}
    for key in ("SECRET_KEY", "BALLOT_SECRET", "DATABASE_URL", "PUBLIC_BASE_URL"):
        env[f"PB_VOTE_{key}"] = config[key]
    env["PB_VOTE_BALLOT_KEYS"] = ",".join(config["BALLOT_KEYS"])
    env["PB_VOTE_SECOND_FACTOR_KEYS"] = ",".join(config["SECOND_FACTOR_KEYS"])
    env["PB_VOTE_STAFF_SECOND_FACTOR"] = config["STAFF_SECOND_FACTOR"]
    consumer = os.path.join(os.path.dirname(sys.executable), "huey_consumer")
    return subprocess.Popen([consumer, "pb_vote.worker.huey", "--workers", "1", "--delay",
                             "0.1", "--max-delay", "0.2", *([] if periodic else ["-n"])],
                            env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until(condition, seconds: float = 5.0) -> bool:
    """Whether ``condition()`` came true within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
