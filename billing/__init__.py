"""The minute ledger: an append-only record of grants, holds, captures and releases in seconds."""
