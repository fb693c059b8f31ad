"""The two stages (ingest, route), their transactional loop and their state."""
