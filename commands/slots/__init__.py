"""Slot capability: publish, generate, block, unblock and cancel slots."""
