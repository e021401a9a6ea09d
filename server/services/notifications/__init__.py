"""Notifications: messages written to the outbox with the change that causes them (messages), and the sender
that delivers them to SMS providers and WeChat (outbox)."""
