"""Signing the report body: ES256 JWS, compact serialisation, detached payload.

The payload is the RFC 8785 (JSON Canonicalization Scheme) form of the body without its
``ChuKy`` member (report-api.yaml); the JWS is ``header..signature`` (RFC 7515 Appendix F).
"""
from __future__ import annotations

import hashlib
from typing import Any

import rfc8785
from joserfc import jws
from joserfc.jwk import ECKey

ALG = "ES256"


class SignatureInvalid(ValueError):
    """The body's ChuKy is missing, malformed or does not verify."""


def signed_content(body: dict[str, Any]) -> bytes:
    """RFC 8785 canonical bytes of ``body`` without ``ChuKy``: what is signed and hashed."""
    return rfc8785.dumps({k: v for k, v in body.items() if k != "ChuKy"})


def content_sha256(body: dict[str, Any]) -> str:
    """Hex SHA-256 of the signed content (the receipt's ``SHA256``)."""
    return hashlib.sha256(signed_content(body)).hexdigest()


def load_private_key(pem: str) -> ECKey:
    key = ECKey.import_key(pem)
    if key.as_dict().get("crv") != "P-256" or not key.is_private:
        raise ValueError("khóa ký phải là khóa bí mật EC P-256 (ES256)")
    return key


def sign_body(body: dict[str, Any], private_key_pem: str, kid: str) -> dict[str, Any]:
    """Return a copy of ``body`` with ``ChuKy`` = {alg, kid, jws} over its signed content."""
    key = load_private_key(private_key_pem)
    compact = jws.serialize_compact({"alg": ALG, "kid": kid}, signed_content(body), key, algorithms=[ALG])
    header, _payload, signature = compact.split(".")
    signed = {k: v for k, v in body.items() if k != "ChuKy"}
    signed["ChuKy"] = {"alg": ALG, "kid": kid, "jws": f"{header}..{signature}"}
    return signed


def verify_body(body: dict[str, Any], public_keys: dict[str, str]) -> str:
    """Verify ``body['ChuKy']`` against the PEM public key registered for its kid.

    Returns the kid. Raises SignatureInvalid with a reason otherwise.
    """
    chu_ky = body.get("ChuKy")
    if not isinstance(chu_ky, dict) or not isinstance(chu_ky.get("jws"), str):
        raise SignatureInvalid("thiếu ChuKy.jws")
    parts = chu_ky["jws"].split(".")
    if len(parts) != 3 or parts[1] != "":
        raise SignatureInvalid("ChuKy.jws không phải JWS dạng compact với payload tách rời (header..signature)")
    if chu_ky.get("alg") != ALG:
        raise SignatureInvalid("ChuKy.alg phải là ES256")
    kid = chu_ky.get("kid")
    pem = public_keys.get(kid) if isinstance(kid, str) else None
    if pem is None:
        raise SignatureInvalid(f"không biết khóa kid={kid!r}")
    try:
        obj = jws.deserialize_compact(chu_ky["jws"], ECKey.import_key(pem), algorithms=[ALG],
                                      payload=signed_content(body))
    except Exception as exc:  # joserfc raises several error types for bad input
        raise SignatureInvalid(f"chữ ký không hợp lệ: {exc.__class__.__name__}") from exc
    if obj.protected.get("alg") != ALG or obj.protected.get("kid") != kid:
        raise SignatureInvalid("header của JWS không khớp ChuKy (alg/kid)")
    return kid


def generate_keypair() -> tuple[str, str]:
    """A fresh P-256 key pair as (private PEM, public PEM): for the sandbox and tests."""
    key = ECKey.generate_key("P-256", private=True)
    return key.as_pem(private=True).decode(), key.as_pem(private=False).decode()
