"""SMS and WhatsApp behind the `SmsSender` port, through the `twilio` SDK's Messages API
(`messages.create`). WhatsApp is the same API with `whatsapp:` before both numbers.

Twilio takes no idempotency key on a message, so the key stays here: it is never sent (nor put
in the status callback's URL). The send jobs prevent the second send; the one window left (a
crash between Twilio's accept and the delivery record) is theirs to reconcile.

Errors: Twilio's 4xx answers are the message's fault (21211 invalid number, 21610 the recipient
answered STOP, 63016 outside WhatsApp's session window...) and are permanent, with Twilio's code;
429, 408, 5xx, timeouts and refused connections are transient. A read timeout is the one
ambiguous case (the request left, Twilio may have queued the message) and says so with
`code="timeout"`; a refused connection never reached Twilio and has no code. No error text
holds Twilio's own message, which can quote the number."""

from __future__ import annotations

from requests.exceptions import ReadTimeout
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from commands.ports import Accepted, DeliveryError, TextMessage

# The route that reads Twilio's status callbacks (api/controllers/notification_webhooks.py).
STATUS_CALLBACK_PATH = "/v1/notifications/twilio/status"
TRANSIENT_STATUSES = frozenset({408, 429})


class TwilioMessages:
    """`auth` is (account SID, auth token) or (API key SID, API key secret): Twilio recommends
    an API key for sending. `sms_from` is a number of the account; a `messaging_service_sid`
    (`MG...`) picks the sender from the service's pool instead and wins for SMS. WhatsApp
    goes from `whatsapp_from`, else from the messaging service's WhatsApp sender."""

    def __init__(
        self,
        account_sid: str,
        auth: tuple[str, str],
        *,
        sms_from: str | None = None,
        whatsapp_from: str | None = None,
        messaging_service_sid: str | None = None,
        public_base_url: str | None = None,
        api_base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if messaging_service_sid:
            self._sms_sender = {"messaging_service_sid": messaging_service_sid}
        elif sms_from:
            self._sms_sender = {"from_": sms_from}
        else:
            raise ValueError("Twilio messaging needs a sender number or a messaging service SID")
        username, password = auth
        self._client = Client(
            username, password, account_sid, http_client=TwilioHttpClient(timeout=timeout)
        )
        if api_base_url is not None:  # a regional endpoint, or the tests' own server
            self._client.api.base_url = api_base_url
        self._whatsapp_from = whatsapp_from
        self._service = messaging_service_sid
        self.status_callback = (
            public_base_url.rstrip("/") + STATUS_CALLBACK_PATH if public_base_url else None
        )

    def _sender(self, message: TextMessage) -> dict[str, str]:
        if message.channel == "whatsapp":
            if self._whatsapp_from:
                return {"from_": _whatsapp(self._whatsapp_from)}
            if self._service:
                return {"messaging_service_sid": self._service}
            raise DeliveryError("no WhatsApp sender is configured", permanent=True, code="config")
        return dict(self._sms_sender)

    def send(self, message: TextMessage) -> Accepted:
        to = _whatsapp(message.to) if message.channel == "whatsapp" else message.to
        extra: dict[str, str] = self._sender(message)
        if self.status_callback is not None:
            extra["status_callback"] = self.status_callback
        try:
            created = self._client.api.v2010.account.messages.create(
                to=to, body=message.body, **extra
            )
        except TwilioRestException as error:
            raise _refused(error) from None
        except ReadTimeout:  # the request left: Twilio may have accepted it
            msg = "Twilio did not answer in time (ReadTimeout); the message may have been sent"
            raise DeliveryError(msg, permanent=False, code="timeout") from None
        except OSError as error:  # requests' other errors are OSErrors too
            what = type(error).__name__
            raise DeliveryError(f"Twilio unreachable ({what})", permanent=False) from None
        return Accepted(created.sid, str(created.status or "queued"))


def _whatsapp(number: str) -> str:
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


def _refused(error: TwilioRestException) -> DeliveryError:
    code = str(error.code) if error.code is not None else None
    status = error.status
    transient = status >= 500 or status in TRANSIENT_STATUSES
    reason = f"Twilio refused the message: HTTP {status}, code {code}"
    return DeliveryError(reason, permanent=not transient, code=code)
