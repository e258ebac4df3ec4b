"""Private utilities of sk_dbn (nothing here is public API)."""
