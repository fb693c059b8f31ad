"""The route stage's part in households that merge and split.

Router state is partitioned by household, so the instance that decides for household A may
not hold B's state. A merge therefore travels: ingest keys the message that merges B into A
to B first; the instance owning B hands B's state on (in the ``kh-carried`` header, on
``ketenhub.canonical``, keyed A) and leaves a forward pointer (``merged_into``) so messages
still on their way to B follow; the instance owning A absorbs it (``routing.households``),
then decides the message. A split goes the other way: A keeps its own children's part and
sends the part that left to its new household, where it is absorbed. Every step is one
transaction with the deliveries, state and audit it causes.

A key rotation moves a household the same way: ingest keys the message to the household's
pseudonym under the previous key, with ``merge_into`` its pseudonym under the current one
(in the same partition) and ``key_migration`` saying it is only that; the instance owning
both hands the state over in place (``in_place``), whole (``routing.rekey``), and the
children the message names are renamed in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import orjson

from hub.context import HubContext
from hub.kafka.partitioner import partition_of
from hub.stages.records import InRecord, OutRecord
from routing.decide import Decision, decide
from routing.directory import Directory
from routing.households import absorb, split
from routing.rekey import migrate, rename_children
from routing.state import HouseholdState
from schemas.audit import AuditAction
from schemas.codes import MessageEvent
from schemas.envelope import RoutingEnvelope, RoutingFacts, header_value
from schemas.ids import derived_id

CARRIED = "kh-carried"
"""Header: the states of households merging in (or a split-off part), as JSON pairs."""
HOPS = "kh-hops"
"""Header: how many times route has passed this message on to another household."""
MOST_HOPS = 64
"""More hops than any chain of merges needs: past it a message goes to the DLQ instead of
going round households for good (a pointer cycle ``pass_on`` did not foresee)."""


class ForwardLoop(Exception):
    """A message passed on between households more than ``MOST_HOPS`` times."""


def carried_states(headers: list[tuple[str, bytes]]) -> list[tuple[str, HouseholdState]]:
    raw = next((v for k, v in headers if k == CARRIED), None)
    if raw is None:
        return []
    return [(h, HouseholdState.model_validate(s)) for h, s in orjson.loads(raw)]


def _carry(carried: list[tuple[str, HouseholdState]]) -> tuple[str, bytes]:
    return CARRIED, orjson.dumps([[h, s.model_dump(mode="json")] for h, s in carried])


def nothing_to_prepare(record: InRecord, envelope: RoutingEnvelope) -> bool:
    """True when ``HouseholdMoves.prepare`` would change nothing: no state carried in, no
    split, no renamed children, no handover. What ``prepare`` reads, checked without the
    reading (a test holds the two together): route skips it for such messages."""
    facts = envelope.facts
    return not (
        facts.renamed_children
        or facts.handover
        or facts.split_household
        or any(key == CARRIED for key, _ in record.headers)
    )


@dataclass
class Prepared:
    """The state to decide on, and what the merges and split before it did."""

    state: HouseholdState
    decisions: list[Decision] = field(default_factory=list)
    out: list[OutRecord] = field(default_factory=list)
    handover_only: bool = False


@dataclass
class HouseholdMoves:
    ctx: HubContext
    directory: Directory

    def _to(
        self,
        record: InRecord,
        envelope: RoutingEnvelope,
        household: str,
        carried: list[tuple[str, HouseholdState]],
    ) -> OutRecord:
        moved = envelope.model_copy(update={"household": household})
        hops = int(header_value(record.headers, HOPS) or 0) + 1
        if hops > MOST_HOPS:
            raise ForwardLoop(f"passed on {MOST_HOPS} times")
        return OutRecord(
            topic=self.ctx.names.canonical,
            key=household.encode(),
            value=record.value or b"{}",
            headers=[*moved.to_headers(), _carry(carried), (HOPS, str(hops).encode())],
            timestamp_ms=record.timestamp_ms if record.timestamp_ms > 0 else None,
        )

    def pass_on(
        self, record: InRecord, envelope: RoutingEnvelope, state: HouseholdState | None
    ) -> tuple[list[OutRecord], HouseholdState] | None:
        """A message this household does not decide: it merged into another one (the
        message follows it there), or it merges into another now (its state goes along and
        a forward pointer stays). Returns the records and this household's new state."""
        if state is not None and state.merged_into is not None:
            carried = carried_states(record.headers)
            if state.merged_into in {household for household, _ in carried}:
                # The household this one points at has handed its state to this very
                # message: two ingest instances merged the pair opposite ways, and the
                # pointers point at each other. Following them would go round for good;
                # this household takes the states in instead (``prepare``) and lives on.
                return None
            return [self._to(record, envelope, state.merged_into, carried)], state
        facts = envelope.facts
        target = facts.merge_into
        if target is None or envelope.household == target:
            return None
        hops = facts.merge_from
        here = hops.index(envelope.household) if envelope.household in hops else len(hops) - 1
        after = hops[here + 1] if here + 1 < len(hops) else target
        carried = [*carried_states(record.headers), (envelope.household, state or HouseholdState())]
        pointer = HouseholdState(merged_into=target)
        return [self._to(record, envelope, after, carried)], pointer

    def in_place(
        self, record: InRecord, envelope: RoutingEnvelope, state: HouseholdState | None
    ) -> tuple[InRecord, HouseholdState] | None:
        """A household moving to its pseudonym under a new key, in this same partition: the
        message as it would arrive there with the state, handled here and now instead of
        round the topic (no later message about the household can overtake its state), and
        the forward pointer to leave. None: not a key migration here, or one to send round."""
        facts, here = envelope.facts, envelope.household
        target = facts.merge_into
        if facts.key_migration != here or facts.merge_from != (here,) or target is None:
            return None
        if state is not None and state.merged_into is not None:
            return None  # moved already (another ingest instance's message): it follows
        partitions = self.ctx.settings.partitions
        if (
            not partition_of(here, partitions)
            == record.partition
            == partition_of(target, partitions)
        ):
            return None
        carried = [*carried_states(record.headers), (here, state or HouseholdState())]
        moved = self._to(record, envelope, target, carried)
        arriving = InRecord(moved.topic, record.partition, record.offset, moved.value,
                            moved.key, moved.headers, record.timestamp_ms)  # fmt: skip
        return arriving, HouseholdState(merged_into=target)

    def prepare(
        self, record: InRecord, envelope: RoutingEnvelope, state: HouseholdState, now: datetime
    ) -> Prepared:
        """Absorb what merges in, then split off who left; the message is decided after."""
        carried = carried_states(record.headers)
        if carried and state.merged_into is not None:  # a pointer cycle ends here (pass_on)
            state = state.evolve({"merged_into": None})
        policy, prepared = self.ctx.policy, Prepared(state)
        facts = envelope.facts
        for household, joining in carried:
            fresh = prepared.state == HouseholdState()
            if fresh and household == facts.key_migration:  # a new key's name, nothing else
                d = migrate(joining, household, envelope, now)
            else:
                d = absorb(
                    prepared.state, joining, household, envelope, policy, now, self.directory
                )
            if facts.handover and fresh:  # a split-off part arriving: the split told everyone
                audit = tuple(a for a in d.audit if a.action is AuditAction.MERGED)
                d = Decision(d.new_state, (), audit)
            prepared.decisions.append(d)
            prepared.state = d.new_state
        prepared.state = rename_children(prepared.state, facts.renamed_children)
        prepared.handover_only = facts.handover
        if facts.handover or not (facts.split_household and facts.split_children):
            return prepared
        d, left = split(
            prepared.state, frozenset(facts.split_children), facts.split_household,
            envelope, policy, now, self.directory,
        )  # fmt: skip
        prepared.decisions.append(d)
        prepared.state = d.new_state
        handover = envelope.model_copy(
            update={
                "message_id": derived_id(envelope.message_id, "split"),
                "event": MessageEvent.HOUSEHOLD_CHANGE,
                "child": facts.split_children[0],
                "facts": RoutingFacts(handover=True, area=facts.area),
            }
        )
        prepared.out.append(
            self._to(record, handover, facts.split_household, [(envelope.household, left)])
        )
        return prepared

    def decide(
        self, record: InRecord, envelope: RoutingEnvelope, before: HouseholdState, now: datetime
    ) -> tuple[Decision, list[OutRecord]]:
        """``decide`` after the merges and split the message brings; one Decision of all."""
        if nothing_to_prepare(record, envelope):  # most messages: decided at once
            return decide(before, envelope, self.ctx.policy, now, self.directory), []
        prepared = self.prepare(record, envelope, before, now)
        if not prepared.decisions:  # the state may still have renamed children (a new key)
            return decide(prepared.state, envelope, self.ctx.policy, now, self.directory), []
        parts = list(prepared.decisions)
        if not prepared.handover_only:
            parts.append(decide(prepared.state, envelope, self.ctx.policy, now, self.directory))
        combined = Decision(
            parts[-1].new_state,
            tuple(d for part in parts for d in part.deliveries),
            tuple(a for part in parts for a in part.audit),
        )
        return combined, prepared.out
