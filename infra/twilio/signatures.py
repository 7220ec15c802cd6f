"""Twilio's webhook signatures (`X-Twilio-Signature`), checked with the SDK's RequestValidator
against the public URL Twilio called (the configured base URL: the service sits behind a
proxy, so the URL the server sees is not the one that was signed)."""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator


class TwilioSignatures:
    """The `SignedRequests` port over Twilio's RequestValidator."""

    def __init__(self, auth_token: str) -> None:
        self._validator = RequestValidator(auth_token)

    def valid(self, url: str, params: Mapping[str, str], signature: str) -> bool:
        if not signature:
            return False
        return bool(self._validator.validate(url, dict(params), signature))

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        """The signature Twilio would send (for tests and local tools)."""
        return str(self._validator.compute_signature(url, dict(params)))
