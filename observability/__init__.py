"""Metrics, structured logs and audit output: what ops and privacy officers see."""
