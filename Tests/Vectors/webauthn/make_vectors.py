"""Makes WebAuthn registration and assertion vectors for ConsentTests, independently of the Swift code:
keys and signatures from Python's `cryptography`, CBOR by hand (RFC 8949), the consent digest from the
README's recipe (SHA-256 of domain, NUL, canonical JSON). Run once; its output is committed:

    python3 Tests/Vectors/webauthn/make_vectors.py > Tests/Vectors/webauthn/vectors.json
"""
import base64, hashlib, json, struct
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives import hashes, serialization

RP_ID, ORIGIN = "localhost", "http://localhost:8787"

def b64u(data): return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

def cbor(value):
    def head(major, n):
        if n < 24: return bytes([major << 5 | n])
        for info, size, fmt in ((24, 1, ">B"), (25, 2, ">H"), (26, 4, ">I"), (27, 8, ">Q")):
            if n < 1 << (8 * size): return bytes([major << 5 | info]) + struct.pack(fmt, n)
    if isinstance(value, int): return head(0, value) if value >= 0 else head(1, -1 - value)
    if isinstance(value, bytes): return head(2, len(value)) + value
    if isinstance(value, str): return head(3, len(value.encode())) + value.encode()
    if isinstance(value, list): return head(4, len(value)) + b"".join(cbor(v) for v in value)
    if isinstance(value, dict): return head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    raise TypeError(value)

def digest(statement):
    canonical = json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(b"oauth3-enclave/consent/v1\0" + canonical).digest()

statement = {
    "purpose": "decide", "tenant_id": "tenant_00112233aabbccdd", "subject": "exec_0123456789abcdef", "decision": "approve",
    "level": "once", "code_sha256": "ab" * 32, "hosts": ["api.example.com:443"], "secrets": ["GH_TOKEN"], "supplied_secrets": [],
    "args": {"REPO": "my-org/é"}, "timeout_seconds": 30, "nonce": "cd" * 32, "issued_at": 1764460800000,
}

def key_pair(kind):
    if kind == "es256":
        private = ec.derive_private_key(0x1234567890ABCDEF1234567890ABCDEF1234567890ABCDEF1234567890ABCDEF, ec.SECP256R1())
        numbers = private.public_key().public_numbers()
        cose = cbor({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        return cose, lambda message: private.sign(message, ec.ECDSA(hashes.SHA256()))
    private = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return cbor({1: 1, 3: -8, -1: 6, -2: raw}), private.sign

def vector(kind):
    cose, sign = key_pair(kind)
    credential = hashlib.sha256(kind.encode()).digest()[:20]
    rp_hash = hashlib.sha256(RP_ID.encode()).digest()
    registration_challenge = hashlib.sha256(b"registration " + kind.encode()).digest()
    auth_reg = rp_hash + bytes([0x45]) + struct.pack(">I", 0) + bytes(16) + struct.pack(">H", len(credential)) + credential + cose
    client_create = json.dumps({"type": "webauthn.create", "challenge": b64u(registration_challenge), "origin": ORIGIN, "crossOrigin": False}).encode()
    attestation = cbor({"fmt": "none", "attStmt": {}, "authData": auth_reg})
    challenge = digest(statement)
    auth_get = rp_hash + bytes([0x05]) + struct.pack(">I", 7)
    client_get = json.dumps({"type": "webauthn.get", "challenge": b64u(challenge), "origin": ORIGIN, "crossOrigin": False}).encode()
    signature = sign(auth_get + hashlib.sha256(client_get).digest())
    return {
        "cose": b64u(cose), "credential_id": b64u(credential), "registration_challenge": b64u(registration_challenge),
        "attestation_object": b64u(attestation), "client_data_create": b64u(client_create),
        "digest": challenge.hex(), "authenticator_data": b64u(auth_get), "client_data_get": b64u(client_get), "signature": b64u(signature),
    }

print(json.dumps({"rp_id": RP_ID, "origin": ORIGIN, "statement": statement, "es256": vector("es256"), "ed25519": vector("ed25519")}, indent=1, ensure_ascii=False))
