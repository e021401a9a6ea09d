"""Remote signing (SPEC "Remote signing"): links, face verification, signatures and the evidence chain.

links.py sends and resolves the personal links, face.py checks WeChat face verification, signatures.py takes
the signature or decline and says what counts as signed, evidence.py keeps the hash-chained ledger.
"""
from server.services.signing.links import create_signing_requests, live_request, signatory_statuses
from server.services.signing.signatures import (
    all_required_signed,
    decline,
    has_valid_signature_on_current_materials,
    sign,
    signing_view,
)

__all__ = [
    "all_required_signed", "create_signing_requests", "decline", "has_valid_signature_on_current_materials",
    "live_request", "sign", "signatory_statuses", "signing_view",
]
