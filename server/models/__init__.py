"""Tortoise models, one module per domain (listed in server.db.MODEL_MODULES)."""
