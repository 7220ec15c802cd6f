"""`slotwise token` as the README tells a developer to run it: the real command in a process of
its own, with no SLOTWISE_* settings in a fresh checkout, and refusing in production mode."""

from __future__ import annotations

import os
import subprocess
import uuid

import httpx
import jwt

from infra.settings import DEV_SIGNING_KEY
from tests.conftest import ROOT

SLOTWISE = ROOT / ".venv" / "bin" / "slotwise"
SECRET = "a-production-secret-of-more-than-32-bytes!"


def run_token(role: str, subject: uuid.UUID, **settings: str) -> subprocess.CompletedProcess[str]:
    """`slotwise token` in the checkout, with the SLOTWISE_* environment left out but for
    `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE_")}
    env.update(settings)
    return subprocess.run(
        [str(SLOTWISE), "token", "--role", role, "--sub", str(subject)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_fresh_checkout_mints_a_development_token_the_api_accepts(
    client: httpx.Client,
) -> None:
    subject = uuid.uuid4()

    minted = run_token("staff", subject)

    assert minted.returncode == 0, minted.stderr
    token = minted.stdout.strip()
    claims = jwt.decode(token, DEV_SIGNING_KEY, algorithms=["HS256"], issuer="slotwise")
    assert claims["sub"] == str(subject)
    assert claims["extras"] == {"role": "staff"}
    assert "development key" in minted.stderr
    answer = client.get("/v1/appointments", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text


def test_a_token_is_signed_with_the_secret_when_one_is_set() -> None:
    minted = run_token("patient", uuid.uuid4(), SLOTWISE_JWT_SECRET=SECRET)

    assert minted.returncode == 0, minted.stderr
    jwt.decode(minted.stdout.strip(), SECRET, algorithms=["HS256"], issuer="slotwise")
    assert "development key" not in minted.stderr


def test_production_mode_without_a_secret_mints_nothing_and_names_what_to_set() -> None:
    refused = run_token("patient", uuid.uuid4(), SLOTWISE_MODE="production")

    assert refused.returncode != 0
    assert refused.stdout == ""
    assert "no token minted" in refused.stderr
    assert "SLOTWISE_JWT_SECRET" in refused.stderr
    assert "SLOTWISE_MODE=dev" in refused.stderr
