from schemas.codes import RejectReason
from schemas.reject_reasons import MEANING


def test_every_reject_reason_says_what_it_means() -> None:
    assert set(MEANING) == set(RejectReason)
    assert all(0 < len(text) <= 70 for text in MEANING.values())
