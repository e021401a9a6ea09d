"""Legal-person accounts (法人注册, seed 001): registration, the legal representative's authorisation, review, coverage."""
