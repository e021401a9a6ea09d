"""The platform's PAdES signature (pyHanko): the certificate, signing, and checking a signed PDF.

The certificate and key come from the PKCS#12 file named by documents.pkcs12. In development, when none is named,
a chain is made on first start under documents.dev_certificate_dir: a root (一窗通开发测试根证书), the platform's
signing certificate and a time-stamping certificate for the stand-in TSA, all marked as development only;
production refuses to start without documents.pkcs12 (server/safety.py).
With documents.tsa_url the signature carries an RFC 3161 timestamp (PAdES B-T), otherwise it is PAdES B-B.
"""
from __future__ import annotations

import asyncio
import io
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from server.config import Settings

FIELD_NAME = "PlatformSignature"
DEV_PASSWORD = b"development-only"
_lock = threading.Lock()


@dataclass(frozen=True)
class PlatformCertificate:
    pkcs12: bytes
    password: bytes | None
    trust_roots: tuple[bytes, ...]  # DER certificates a verifier trusts for the platform's signatures


@dataclass(frozen=True)
class SignatureCheck:
    present: bool
    valid: bool
    intact: bool
    signer: str | None
    timestamp: str | None

    def answer(self) -> dict:
        return {"valid": self.valid, "signer": self.signer, "timestamp": self.timestamp}


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "一窗通（开发环境，不具法律效力）"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, key, issuer_name: x509.Name, issuer_key, *, ca: bool,
                 usage: x509.ExtendedKeyUsage | None = None) -> x509.Certificate:
    start = datetime.now(timezone.utc) - timedelta(days=1)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + timedelta(days=3650 if ca else 1825))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                                            crl_sign=ca, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if usage is not None:
        builder = builder.add_extension(usage, critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def ensure_development_chain(directory: str) -> Path:
    """The development root, platform and TSA certificates under `directory`, made once (idempotent)."""
    root_dir = Path(directory)
    p12 = root_dir / "platform.p12"
    with _lock:
        if p12.is_file() and (root_dir / "tsa.pem").is_file():
            return root_dir
        root_dir.mkdir(parents=True, exist_ok=True)
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = _name("一窗通开发测试根证书")
        root = _certificate("一窗通开发测试根证书", root_key, root_name, root_key, ca=True)
        platform_key = ec.generate_private_key(ec.SECP256R1())
        platform = _certificate("一窗通平台电子签章（开发）", platform_key, root_name, root_key, ca=False)
        # RSA: pyHanko's test time-stamper (the stand-in TSA) signs with RSA only.
        tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        tsa = _certificate("一窗通时间戳服务（开发）", tsa_key, root_name, root_key, ca=False,
                           usage=x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]))
        encoding = serialization.Encoding.PEM
        _pem(root_dir / "root.pem", root.public_bytes(encoding))
        _pem(root_dir / "tsa.pem", tsa.public_bytes(encoding) + root.public_bytes(encoding))
        _pem(root_dir / "tsa-key.pem", tsa_key.private_bytes(encoding, serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption()))
        bundle = pkcs12.serialize_key_and_certificates(
            "platform".encode(), platform_key, platform, [root],
            serialization.BestAvailableEncryption(DEV_PASSWORD))
        temp = root_dir / ".platform.p12.tmp"
        _pem(temp, bundle)
        temp.replace(p12)
        return root_dir


def load_certificate(settings: Settings) -> PlatformCertificate:
    """The configured PKCS#12 (production), or the development chain (made on first use)."""
    docs = settings.documents
    if docs.pkcs12:
        path = Path(docs.pkcs12)
        password = docs.pkcs12_password.encode() if docs.pkcs12_password else None
    else:
        path = ensure_development_chain(docs.dev_certificate_dir) / "platform.p12"
        password = DEV_PASSWORD
    # Decrypting a PKCS#12 costs a key derivation: read it again only when the file changes.
    return _loaded(str(path), path.stat().st_mtime_ns, password)


@lru_cache(maxsize=4)
def _loaded(path: str, mtime_ns: int, password: bytes | None) -> PlatformCertificate:
    data = Path(path).read_bytes()
    _, certificate, extra = pkcs12.load_key_and_certificates(data, password)
    chain = [cert for cert in extra if cert.subject == cert.issuer] or [certificate]
    return PlatformCertificate(data, password, tuple(c.public_bytes(serialization.Encoding.DER) for c in chain))


@lru_cache(maxsize=4)
def _signer(pkcs12_bytes: bytes, password: bytes | None):
    from pyhanko.sign import signers

    class PlatformSigner(signers.SimpleSigner):
        """pyHanko's SimpleSigner, with the private key loaded (and, for RSA, validated) once instead of on every
        signature: that load is most of the cost of signing a document."""

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            from pyhanko_certvalidator.util import get_pyca_cryptography_hash

            try:
                mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            except ValueError:
                return super().sign_raw(data, digest_algorithm)
            hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
            if mechanism == "rsassa_pkcs1v15" and isinstance(self._private_key, rsa.RSAPrivateKey):
                return self._private_key.sign(data, padding.PKCS1v15(), hash_algorithm)
            if mechanism == "ecdsa" and isinstance(self._private_key, ec.EllipticCurvePrivateKey):
                return self._private_key.sign(data, ec.ECDSA(hash_algorithm))
            return super().sign_raw(data, digest_algorithm)

    loaded = signers.SimpleSigner.load_pkcs12_data(pkcs12_bytes, other_certs=[], passphrase=password)
    signer = PlatformSigner(signing_cert=loaded.signing_cert, signing_key=loaded.signing_key,
                            cert_registry=loaded.cert_registry)
    signer._private_key = serialization.load_der_private_key(loaded.signing_key.dump(), password=None)
    return signer


def _sign(pdf: bytes, certificate: PlatformCertificate, tsa_url: str, tsa_timeout: float, reason: str) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

    metadata = signers.PdfSignatureMetadata(field_name=FIELD_NAME, md_algorithm="sha256",
                                            subfilter=fields.SigSeedSubFilter.PADES, reason=reason,
                                            location="中国", name="一窗通平台")
    timestamper = RequestsHTTPTimeStamper(tsa_url, timeout=tsa_timeout) if tsa_url else None
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    out = signers.sign_pdf(writer, metadata, signer=_signer(certificate.pkcs12, certificate.password),
                           timestamper=timestamper)
    return out.getvalue()


async def sign(settings: Settings, pdf: bytes, reason: str) -> bytes:
    """The PDF with the platform's PAdES signature appended (B-T with a TSA configured, else B-B)."""
    certificate = await asyncio.to_thread(load_certificate, settings)
    docs = settings.documents
    return await asyncio.to_thread(_sign, pdf, certificate, docs.tsa_url, docs.tsa_timeout_seconds, reason)


def _subject(certificate) -> str:
    names = dict((attribute["type"].native, attribute["value"].native)
                 for rdn in certificate.subject.chosen for attribute in rdn)
    return names.get("common_name") or certificate.subject.human_friendly


def check_signature(pdf: bytes, trust_roots: tuple[bytes, ...]) -> SignatureCheck:
    """What pyHanko's validator finds about the platform signature of this PDF (run in a worker thread)."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = [s for s in reader.embedded_signatures if s.field_name == FIELD_NAME]
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError):
        return SignatureCheck(False, False, False, None, None)
    if not signatures:
        return SignatureCheck(False, False, False, None, None)
    roots = [asn1_x509.Certificate.load(der) for der in trust_roots]
    context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    try:
        status = validate_pdf_signature(signatures[0], context, skip_diff=True)
    except Exception:
        return SignatureCheck(True, False, False, None, None)
    timestamp = status.timestamp_validity
    stamp = None
    if timestamp is not None and timestamp.intact and timestamp.valid and timestamp.trusted:
        stamp = timestamp.timestamp.astimezone(timezone.utc).isoformat()
    whole = status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
    valid = bool(status.intact and status.valid and status.trusted and whole)
    return SignatureCheck(True, valid, bool(status.intact), _subject(status.signing_cert), stamp)


async def check(settings: Settings, pdf: bytes) -> SignatureCheck:
    certificate = await asyncio.to_thread(load_certificate, settings)
    return await asyncio.to_thread(check_signature, pdf, certificate.trust_roots)
