"""Accounts: applicants (WeChat login, phone binding), staff (passwords, roles, authority) and their sessions."""
