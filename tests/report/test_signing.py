"""RFC 8785 + detached-payload ES256 JWS, verified independently with `cryptography`."""
import base64
import json

import pytest
import rfc8785
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from parreport.report.signing import SignatureInvalid, content_sha256, generate_keypair, sign_body, verify_body


def b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


BODY = {"MaBaoCao": "CCHC_QUY", "TenDonViBaoCao": "Sở Lao động – Thương binh và Xã hội", "GiaTri": 66.67,
        "ChiTieu": [{"b": 1, "a": None}], "n": 1e21}


def test_detached_jws_verifies_by_hand():
    priv, pub = generate_keypair()
    signed = sign_body(BODY, priv, "snv-2025")
    header_b64, payload, sig_b64 = signed["ChuKy"]["jws"].split(".")
    assert payload == "" and signed["ChuKy"]["alg"] == "ES256" and signed["ChuKy"]["kid"] == "snv-2025"
    assert json.loads(b64d(header_b64)) == {"alg": "ES256", "kid": "snv-2025"}
    # RFC 7515 App. F: signing input = header . base64url(payload); payload = RFC 8785 of the body sans ChuKy
    signing_input = f"{header_b64}.{b64e(rfc8785.dumps(BODY))}".encode()
    raw = b64d(sig_b64)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = serialization.load_pem_public_key(pub.encode())
    key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))  # raises if wrong
    assert verify_body(signed, {"snv-2025": pub}) == "snv-2025"


def test_member_order_and_resigning_do_not_change_the_content():
    priv, _ = generate_keypair()
    a = sign_body(BODY, priv, "k")
    b = sign_body(dict(reversed(list(BODY.items()))), priv, "k")
    assert a["ChuKy"]["jws"] != b["ChuKy"]["jws"]  # ES256 is randomised
    assert content_sha256(a) == content_sha256(b) == content_sha256(BODY)


def test_tampering_wrong_key_and_unknown_kid_are_refused():
    priv, pub = generate_keypair()
    _, other_pub = generate_keypair()
    signed = sign_body(BODY, priv, "k")
    with pytest.raises(SignatureInvalid):
        verify_body({**signed, "GiaTri": 66.68}, {"k": pub})
    with pytest.raises(SignatureInvalid):
        verify_body(signed, {"k": other_pub})
    with pytest.raises(SignatureInvalid, match="kid"):
        verify_body(signed, {"other": pub})
    with pytest.raises(SignatureInvalid):
        verify_body({k: v for k, v in signed.items() if k != "ChuKy"}, {"k": pub})
