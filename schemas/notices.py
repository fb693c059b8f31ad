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


Notice = Ack | Nack
