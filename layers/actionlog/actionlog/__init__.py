"""Actionlog: a per-user action log and key-value cache on Redis, shared by every Lambda handler."""
