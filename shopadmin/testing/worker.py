"""A real Celery worker for tests where delivery matters.

`live_worker` starts `celery worker` in a separate process against the test database (as
the app role, so row-level security applies there too) and the test broker. Tests that
use it must commit their data: mark them `@pytest.mark.django_db(transaction=True)`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], object], timeout: float = 30, interval: float = 0.1, message: str = ""):
    """Poll until `predicate()` is truthy; return its value or fail with `message`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(message or f"timed out after {timeout}s")
        time.sleep(interval)


def subprocess_database_url() -> str:
    db = connections["default"].settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class WorkerProcess:
    def __init__(self, name: str, extra_env: dict[str, str] | None = None, concurrency: int = 1, pool: str = "solo"):
        self.name = name
        self.lines: list[str] = []
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "shopadmin.test_settings",
            "DATABASE_URL": subprocess_database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "SHOPADMIN_TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "shopadmin",
                "worker",
                f"--pool={pool}",
                f"--concurrency={concurrency}",
                f"--hostname={name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_ready(self, timeout: float = 60):
        wait_for(
            lambda: any(" ready." in line for line in self.lines) or self.process.poll() is not None,
            timeout,
            message=f"worker {self.name} did not start:\n{self.log}",
        )
        if self.process.poll() is not None:
            pytest.fail(f"worker {self.name} exited:\n{self.log}")
        return self

    def kill(self):
        """SIGKILL: the worker dies mid-task, as on a crash or an OOM kill."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def purge_broker():
    from shopadmin.celery import app

    with app.connection_for_write() as conn:
        channel = conn.default_channel
        channel.queue_purge(app.conf.task_default_queue)
        # A killed worker's unacknowledged messages wait in Redis to be restored: they belong to
        # the test that killed it, not to the next one that restores them.
        channel.client.delete(channel.unacked_key, channel.unacked_index_key)


@pytest.fixture
def start_worker(request, django_db_setup, django_db_blocker):
    """Factory: `start_worker("w1")` starts a worker and waits until it is ready; all stop at teardown."""
    if request.node.get_closest_marker("worker") is None:
        # So that `-m "not worker"` leaves out every test that starts one.
        pytest.fail("a test that starts a Celery worker must be marked @pytest.mark.worker")
    workers: list[WorkerProcess] = []
    with django_db_blocker.unblock():
        purge_broker()

    def start(name: str = "worker", ready: bool = True, **kwargs) -> WorkerProcess:
        """With `ready=False` it returns at once: the worker boots while the test sets up its
        data (tasks queued meanwhile wait for it); call `wait_ready()` before relying on it."""
        worker = WorkerProcess(name, **kwargs)
        workers.append(worker)
        return worker.wait_ready() if ready else worker

    yield start
    for worker in workers:
        worker.stop()
        # Captured output: pytest shows it only when the test failed.
        print(f"--- worker {worker.name} ---\n{worker.log}")


@pytest.fixture
def live_worker(start_worker):
    """One real worker process (solo pool) for the test."""
    return start_worker("worker")
