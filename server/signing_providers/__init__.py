"""Enterprise signing (企业电子印章 / 电子营业执照) behind one small interface, with a development implementation.

An enterprise signatory does not sign by hand: it applies its electronic seal (e_seal, home-province enterprises)
or its electronic business license (e_license). Production connects the provincial e-seal platform or the national
电子营业执照 system here; development uses DevelopmentSealProvider, which stamps a drawn seal and signs the
document hash with the server's secret key so the evidence is still checkable.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import math
from dataclasses import dataclass
from typing import Protocol

from PIL import Image, ImageDraw


@dataclass(frozen=True)
class SealResult:
    reference: str          # the provider's id for this signing act
    signature_value: str    # the provider's signature over the document hash
    image_png: bytes        # what the evidence shows as the enterprise's mark


class EnterpriseSealProvider(Protocol):
    async def seal(self, *, method: str, credit_code: str, enterprise_name: str, document_hash: str) -> SealResult:
        """Apply the enterprise's e-seal or e-license to the document hash."""


class DevelopmentSealProvider:
    """Stands in for the e-seal / e-license platforms: an HMAC over the hash and a drawn red seal."""

    def __init__(self, secret_key: str):
        self._key = secret_key.encode("utf-8")

    def signature_value(self, method: str, credit_code: str, document_hash: str) -> str:
        message = f"{method}|{credit_code}|{document_hash}".encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    async def seal(self, *, method: str, credit_code: str, enterprise_name: str, document_hash: str) -> SealResult:
        value = self.signature_value(method, credit_code, document_hash)
        return SealResult(reference=f"dev-{method}-{value[:16]}", signature_value=value,
                          image_png=_seal_image(credit_code or "UNKNOWN", method))


def _seal_image(credit_code: str, method: str) -> bytes:
    size = 240
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    red = (200, 20, 20, 255)
    draw.ellipse((8, 8, size - 8, size - 8), outline=red, width=8)
    centre, outer, inner = size / 2, 36, 14
    star = []
    for i in range(10):
        radius = outer if i % 2 == 0 else inner
        angle = -math.pi / 2 + i * math.pi / 5
        star.append((centre + radius * math.cos(angle), centre + radius * math.sin(angle)))
    draw.polygon(star, fill=red)
    draw.text((centre, centre + 60), credit_code, fill=red, anchor="mm")
    draw.text((centre, centre - 70), "E-SEAL" if method == "e_seal" else "E-LICENSE", fill=red, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class NoSealProvider:
    """No e-seal / e-license platform connected yet (production before its adapter exists): an enterprise
    signatory is told so, and nothing is signed on its behalf."""

    def __init__(self, secret_key: str):
        pass

    async def seal(self, *, method: str, credit_code: str, enterprise_name: str, document_hash: str) -> SealResult:
        from server.errors import Unavailable

        raise Unavailable("电子印章/电子营业执照签章平台尚未接入，暂不能以企业身份签名", "method")


PROVIDERS = {"development": DevelopmentSealProvider, "none": NoSealProvider}


def make_provider(settings) -> EnterpriseSealProvider:
    return PROVIDERS[settings.signing.enterprise_provider](settings.secret_key)
