"""Crypto-shredding of personal data: AES-256-GCM per data subject, data keys wrapped by a
key-encryption key, kept in their own PostgreSQL schema. See docs/privacy.md."""
