"""The tamper-evident log: entries chained by hash, an RFC 6962 Merkle tree over the same
entries, C2SP checkpoints, and the verification an auditor runs offline (docs/audit.md).

Pure code: no database, no clock, no signature library (signing and verifying notes is a port
that infra/crypto/note.py implements), so the offline verifier can use it with nothing else."""
