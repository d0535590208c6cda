"""The Cloud Agent compatibility endpoints (see the compat contract in the design notes)."""
