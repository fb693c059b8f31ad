"""Kafka plumbing: connection, local broker, topics, auth and provisioning, preflight."""
