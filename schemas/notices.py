"""Acknowledgements the hub sends back to a partner that published a message."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from schemas.codes import RejectReason


class Ack(BaseModel):
    """The message was accepted and delivered to every recipient it may reach."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["ack"] = "ack"
    in_response_to: str
    hub_message_id: str
    delivered_to: tuple[str, ...]
    at: AwareDatetime


class Nack(BaseModel):
    """The message was not accepted; ``reason_code`` is stable, ``reason`` is for people.

    Neither ever contains personal data from the rejected message.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["nack"] = "nack"
    in_response_to: str | None
    hub_message_id: str
    reason_code: RejectReason
    reason: str
    at: AwareDatetime


Notice = Ack | Nack
