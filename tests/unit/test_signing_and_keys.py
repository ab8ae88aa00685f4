"""Signatures checked against independent computations, and API key hashing."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from wandb.sdk.lib.wbauth.validation import check_api_key

from mlhooks.access import generate_api_key, hash_api_key, presented_key
from mlhooks.models.vocabulary import SignatureEncoding
from mlhooks.signing import sign_standard_webhooks, sign_wandb, standard_webhooks_key

BODY = b'{"event_type":"ADD_ARTIFACT_ALIAS"}'


def test_wandb_signature_hex_matches_wandb_guide_computation():
    expected = hmac.new(b"my-secret", BODY, hashlib.sha256).hexdigest()
    assert sign_wandb("my-secret", BODY) == expected


def test_wandb_signature_base64_option():
    expected = base64.b64encode(hmac.new(b"my-secret", BODY, hashlib.sha256).digest()).decode()
    assert sign_wandb("my-secret", BODY, SignatureEncoding.BASE64) == expected


def test_standard_webhooks_signature_known_vector():
    # The Standard Webhooks specification's published example.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    msg_id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    timestamp = 1614265330
    body = b'{"test": 2432232314}'
    assert sign_standard_webhooks(secret, msg_id, timestamp, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_standard_webhooks_plain_secret_uses_utf8_bytes():
    assert standard_webhooks_key("plain secret") == b"plain secret"
    assert standard_webhooks_key("whsec_not base64!") == b"whsec_not base64!"


def test_api_keys_are_random_and_hashed_with_sha256():
    first, second = generate_api_key(), generate_api_key()
    assert first.key != second.key and first.id != second.id
    assert first.key.startswith(f"mlh_{first.id}_")
    assert first.key_hash == hashlib.sha256(first.key.encode()).hexdigest() == hash_api_key(first.key)
    assert first.prefix == first.key[:16] and first.prefix in first.key


def test_every_new_key_passes_the_wandb_sdks_format_check():
    # The SDK refuses, before sending anything, a key whose part after its first `-` is shorter than
    # 40 characters; about half of the keys made with `-` in their alphabet failed it.
    for _ in range(2000):
        key = generate_api_key().key
        assert check_api_key(key) is None, key


def _basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


@pytest.mark.parametrize(
    ("authorization", "key"),
    [
        ("Bearer mlh_k", "mlh_k"),
        ("bearer   mlh_k  ", "mlh_k"),
        (_basic(b"api:mlh_k"), "mlh_k"),  # what the wandb SDK sends
        (_basic(b"someone:mlh_k"), "mlh_k"),
        (_basic(b"mlh_k"), None),  # no password
        (_basic(b"api:"), None),
        ("Basic not-base64!", None),
        (_basic("api:\u00e4".encode("latin-1")), None),  # not UTF-8
        ("Digest mlh_k", None),
        ("", None),
        (None, None),
    ],
)
def test_the_key_is_read_from_bearer_or_basic_credentials(authorization, key):
    assert presented_key(authorization) == key


def test_the_receiver_tells_a_missing_signature_from_a_wrong_one():
    from mlhooks.local.receiver import verdicts

    body = b'{"a": 1}'
    assert verdicts({}, body, "secret") == {"X-Wandb-Signature": "missing", "webhook-signature": "missing"}
    signed = {"x-wandb-signature": sign_wandb("secret", body)}
    assert verdicts(signed, body, "secret")["X-Wandb-Signature"] == "valid"
    assert verdicts(signed, body, "other")["X-Wandb-Signature"] == "INVALID"
