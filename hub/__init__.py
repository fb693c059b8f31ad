"""The imperative shell: Kafka, CLI, settings and the two stages around the routing core."""
