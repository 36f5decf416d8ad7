"""JSON Schemas of sem_kit outputs (results.schema.json)."""
