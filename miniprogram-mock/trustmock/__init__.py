"""Stand-ins for the trust services: the notary's data centre (一键公证) and an RFC 3161 time-stamping authority."""
from trustmock.server import NotaryState, create_notary_blueprint, create_standalone_app, create_tsa_blueprint

__all__ = ["NotaryState", "create_notary_blueprint", "create_standalone_app", "create_tsa_blueprint"]
