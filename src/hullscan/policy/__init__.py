"""Findings → decisions: the policy gate, exceptions with expiry, VEX in and out, risk ranking."""
