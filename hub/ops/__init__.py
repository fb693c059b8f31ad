"""Operator tools over the hub's topics: dead letters and the audit log."""
