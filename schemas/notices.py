"""Acknowledgements the hub sends back to a partner that published a message."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime

from schemas.base import PrivateModel
from schemas.codes import RejectReason


class Ack(PrivateModel):
    """The message was accepted and delivered to every recipient it may reach.

    ``duplicate`` is true when the partner resent a message the hub had already delivered:
    nothing was delivered a second time.
    """

    type: Literal["ack"] = "ack"
    in_response_to: str
    hub_message_id: str
    delivered_to: tuple[str, ...]
    duplicate: bool = False
    at: AwareDatetime


class Nack(PrivateModel):
    """The message was not accepted; ``reason_code`` is stable, ``reason`` is for people.

    Neither ever contains personal data from the rejected message.
    """

    type: Literal["nack"] = "nack"
    in_response_to: str | None
    hub_message_id: str
    reason_code: RejectReason
    reason: str
    at: AwareDatetime


class AboutPartner(PrivateModel):
    partner: str
    name: str
    contact: str | None = None


class HubNotice(PrivateModel):
    """Something the hub tells a partner: a regie change, a signal match, start of care.

    ``regarding`` is the partner's own message id the notice concerns, so it can find its
    client without the hub repeating any personal data.
    """

    type: Literal["hub-melding"] = "hub-melding"
    hub_message_id: str
    subject: str
    regarding: str | None = None
    about: tuple[AboutPartner, ...] = ()
    at: AwareDatetime


Notice = Ack | Nack
