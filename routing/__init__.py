"""The router's functional core: pure decisions over plain data. No Kafka, no I/O."""

from routing.decide import Decision, Delivery, DeliveryKind, decide
from routing.policy import Flow, Policy
from routing.state import HouseholdState

__all__ = ["Decision", "Delivery", "DeliveryKind", "Flow", "HouseholdState", "Policy", "decide"]
