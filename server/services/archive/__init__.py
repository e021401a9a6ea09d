"""The electronic archive (电子档案, seeds 001 and 002): finished filings and scanned paper archives as immutable
bundles, a hash-chained ledger of their manifests, verification, and 容e查 for staff."""
