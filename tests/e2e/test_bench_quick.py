"""`make bench QUICK=1` as CI runs it: every section runs its small version in a process of its
own and prints a `ratio <section>...: <number>` line, so the benchmark code cannot rot. How fast
anything is does not matter here; only that each section ran to its ratio."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from bench.__main__ import SECTIONS
from tests.conftest import ROOT

RATIO = re.compile(r"^ratio (?P<name>[a-z0-9-]+): (?P<value>\d+\.\d+)", re.MULTILINE)


def bench(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """`python -m bench --quick ARGS` in the checkout, as `make bench QUICK=1` runs it."""
    env = {**os.environ, "SLOTWISE_MODE": "test", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "bench", "--quick", *args]
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.timeout(420)
def test_the_quick_bench_runs_every_section_to_a_ratio() -> None:
    done = bench(timeout=400)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    names = [m["name"] for m in RATIO.finditer(done.stdout)]
    for section in SECTIONS:
        ran = [n for n in names if n == section or n.startswith(f"{section}-")]
        assert ran, f"section {section} printed no ratio:\n{done.stdout[-3000:]}"
    values = [float(m["value"]) for m in RATIO.finditer(done.stdout)]
    assert all(v > 0 for v in values), done.stdout


def test_one_section_runs_alone() -> None:
    done = bench("--only", "audit", timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    names = {m["name"] for m in RATIO.finditer(done.stdout)}
    assert names == {"audit"}, done.stdout
