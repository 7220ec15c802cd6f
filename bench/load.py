"""A bounded HTTP load generator that stops by itself: wrk when it is installed (`apt-get install
wrk`; C, so the client is not what bounds the server on a small machine), else a Python asyncio
client with the same number of connections and a fixed number of requests."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.setup import percentile

WRK_SCRIPT = """
local paths = %(paths)s
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {["Authorization"] = "Bearer %(token)s"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %%d %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Load:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int
    tool: str

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds


def generate(url: str, paths: list[str], token: str, connections: int, seconds: float) -> Load:
    """GETs of `paths` (in turn) from `connections` connections for about `seconds`."""
    if shutil.which("wrk"):
        return _wrk(url, paths, token, connections, seconds)
    # Without wrk: as many requests as a Python client manages in about that long.
    return asyncio.run(_python(url, paths, token, connections, max(int(seconds * 300), 200)))


def _wrk(url: str, paths: list[str], token: str, connections: int, seconds: float) -> Load:
    lua_paths = "{" + ", ".join(json.dumps(p) for p in paths) + "}"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {"paths": lua_paths, "token": token})
    try:
        done = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{max(seconds, 1):.0f}s",
                "--timeout",
                "10s",
                "-s",
                script.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    finally:
        Path(script.name).unlink()
    line = next(x for x in done.stdout.splitlines() if x.startswith("BENCH "))
    requests, micros, p50, p99, failed = (int(v) for v in line.split()[1:])
    return Load(requests, micros / 1e6, p50 / 1000, p99 / 1000, failed, "wrk")


async def _python(url: str, paths: list[str], token: str, connections: int, total: int) -> Load:
    latencies: list[float] = []
    failed = 0
    issued = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def one_connection() -> None:
            nonlocal issued, failed
            while issued < total:
                path = paths[issued % len(paths)]
                issued += 1
                began = time.perf_counter()
                response = await client.get(path, headers=headers)
                latencies.append(time.perf_counter() - began)
                failed += response.status_code >= 300

        began = time.perf_counter()
        await asyncio.gather(*(one_connection() for _ in range(connections)))
        seconds = time.perf_counter() - began
    return Load(
        len(latencies),
        seconds,
        percentile(latencies, 50) * 1000,
        percentile(latencies, 99) * 1000,
        failed,
        "python",
    )
