"""Directory capability: register and update providers and patients."""
