"""Router state per household, as plain immutable values."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

RECENT_MESSAGES_KEPT = 256


class HouseholdState(BaseModel):
    """What the router remembers about one household between messages.

    ``recent`` holds the last partner message keys seen, so a partner that resends a message
    after a timeout gets its acknowledgement again instead of a second delivery.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    recent: tuple[str, ...] = ()

    def seen(self, key: str) -> bool:
        return key in self.recent

    def remember(self, key: str) -> HouseholdState:
        return self.model_copy(update={"recent": (*self.recent, key)[-RECENT_MESSAGES_KEPT:]})
