"""Domain services: the rules and transitions, one module per domain."""
