"""What each nack reason code means for the partner that got it, and what to do about it.

One sentence each, for the published contract and for people (the demo's live table).
"""

from __future__ import annotations

from collections.abc import Mapping

from schemas.codes import RejectReason

MEANING: Mapping[RejectReason, str] = {
    RejectReason.PAYLOAD_TOO_LARGE: "the message exceeds the hub's size limit; send less",
    RejectReason.MALFORMED: "the bytes are not readable JSON or XML; fix the encoding",
    RejectReason.UNSUPPORTED_TYPE: "your partner kind does not send this message type",
    RejectReason.SCHEMA_INVALID: "a field is missing, misnamed or breaks its rule; see reason",
    RejectReason.INVALID_BSN: "a BSN fails the elfproef: a typing error in the client's BSN",
    RejectReason.UNKNOWN_PARTNER: "the outbox belongs to no registered partner",
    RejectReason.UNKNOWN_RECIPIENT: "the addressee (AGB, code, gemeente) is not registered",
    RejectReason.SENDER_MISMATCH: "the message names another sender than your own identifier",
    RejectReason.NO_LEGAL_BASIS: "no consent, statute or safety basis allows this delivery",
    RejectReason.INTERNAL_ERROR: "the hub failed on this message; it is in the DLQ, resend later",
    RejectReason.OUT_OF_SCOPE: "the consent does not cover this purpose, recipient or date",
    RejectReason.CONSENT_INCOMPLETE: "the consent lacks a signature the child's age requires",
    RejectReason.UNKNOWN_CONSENT: "the consent named (to revoke) was never recorded",
    RejectReason.REGIE_CONFLICT: "the household already has a regisseur; ask for a transfer",
    RejectReason.NOT_REGISSEUR: "only the household's current regisseur may do this",
    RejectReason.NO_PENDING_TRANSFER: "there is no open regie transfer offer to answer",
    RejectReason.XML_UNSAFE: "the XML declares a DOCTYPE or ENTITY, which the hub refuses",
}
