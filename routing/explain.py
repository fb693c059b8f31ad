"""The policy in plain words, for ``ketenhub policy explain`` and for privacy officers."""

from __future__ import annotations

from routing.policy import HOUSEHOLD_RULES, Policy
from schemas.audit import LegalBasis
from schemas.codes import MessageEvent
from schemas.partners import PartnerKind

_BASIS_WORDS = {
    LegalBasis.STATUTORY: "on a statutory basis (no consent needed)",
    LegalBasis.CONSENT: "only with consent",
    LegalBasis.SAFETY: "on the safety basis, while a Veiligheidshuis has escalated the household",
}


def explain(
    policy: Policy, event: MessageEvent, sender: PartnerKind, recipient: PartnerKind
) -> list[str]:
    """What the hub does with ``event`` from a ``sender`` kind to a ``recipient`` kind, and why."""
    what = f"{_a(event.value).capitalize()} from {_a(sender.value)} to {_a(recipient.value)}"
    flow = policy.flow(event, sender, recipient)
    if flow is None:
        return [
            f"{what} is never delivered: the policy lists no legal basis for this flow.",
            "The sender gets a nack 'no-legal-basis' and the refusal is audited.",
        ]
    lines = [f"{what} is delivered " + ", or ".join(_BASIS_WORDS[b] for b in flow.bases) + "."]
    lines.append(f"Why: {flow.why}")
    if LegalBasis.CONSENT in flow.bases:
        lines.append(
            f"Consent must cover the purpose '{flow.purpose}' and name this recipient (or its "
            "kind), be in force on the day of delivery, not be revoked, and be signed by:"
        )
        for rule in policy.consent_rules:
            ages = f"{rule.min_age}+" if rule.max_age is None else f"{rule.min_age}-{rule.max_age}"
            options = " or ".join(" and ".join(p.value for p in need) for need in rule.any_of)
            lines.append(f"  age {ages}: {options}")
    dropped = policy.minimisation_for(recipient)
    if dropped:
        lines.append(f"Before delivery the hub removes: {', '.join(dropped)}.")
    else:
        lines.append("Nothing is removed before delivery (no minimisation profile for this kind).")
    lines.append(
        "If no basis holds at delivery time, the message is not delivered; the sender gets a "
        "nack 'no-legal-basis' when it was the addressee, and the audit log records it."
    )
    return lines


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def household_summary(policy: Policy) -> list[str]:
    """One line per merge or split rule, for ``ketenhub policy check``."""
    given = {(r.change, r.aspect): r.why for r in policy.household_rules}
    return [
        f"household {change}/{aspect}: {policy.household_rule(change, aspect)}"
        + ("" if (change, aspect) in given else " (default: the file gives no rule)")
        for change, aspect in HOUSEHOLD_RULES
    ]
