"""Signed object URLs: what a URL allows, and that nothing about it can be changed or reused."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from core.errors import Forbidden, InvalidInput, InvalidObjectKey
from core.signing import SignedRequest, UrlSigner

NOW = 1_700_000_000
KEY = "uploads/u1/0123456789abcdef0123456789abcdef.mp3"
DIGEST = hashlib.sha256(b"audio").hexdigest()


@pytest.fixture
def signer() -> UrlSigner:
    return UrlSigner("test-secret-key")


def signed_put(signer: UrlSigner) -> dict[str, str]:
    return signer.sign("PUT", KEY, expires_at=NOW + 600, max_bytes=5000, sha256=DIGEST)


def test_put_url_round_trip_returns_the_signed_limits(signer: UrlSigner) -> None:
    query = signed_put(signer)

    request = signer.verify("PUT", KEY, query, now=NOW)

    assert request == SignedRequest("PUT", KEY, NOW + 600, 5000, DIGEST)


def test_get_url_without_limits_round_trips_through_a_real_url(signer: UrlSigner) -> None:
    url = signer.url("https://api.example.org/", "GET", KEY, expires_at=NOW + 60)

    parts = urlsplit(url)
    assert parts.path == f"/objects/{KEY}"
    assert url.startswith("https://api.example.org/objects/")
    request = signer.verify("GET", KEY, dict(parse_qsl(parts.query)), now=NOW)
    assert (request.method, request.max_bytes, request.sha256) == ("GET", None, None)


def test_method_is_case_insensitive(signer: UrlSigner) -> None:
    query = signer.sign("put", KEY, expires_at=NOW + 60)
    assert signer.verify("Put", KEY, query, now=NOW).method == "PUT"


def test_sha256_is_normalised_to_lower_case(signer: UrlSigner) -> None:
    query = signer.sign("PUT", KEY, expires_at=NOW + 60, sha256=DIGEST.upper())
    assert query["sha256"] == DIGEST
    assert signer.verify("PUT", KEY, query, now=NOW).sha256 == DIGEST


def _tampered(query: dict[str, str], field: str, value: str | None) -> dict[str, str]:
    changed = dict(query)
    if value is None:
        changed.pop(field)
    else:
        changed[field] = value
    return changed


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expires", str(NOW + 601)),  # a longer life
        ("expires", str(NOW + 599)),
        ("expires", None),
        ("expires", f"0{NOW + 600}"),  # same number, not the signed text
        ("expires", f" {NOW + 600}"),
        ("max_bytes", "5001"),  # a bigger upload
        ("max_bytes", "-1"),
        ("max_bytes", "5_000"),
        ("max_bytes", None),  # the limit dropped altogether
        ("sha256", hashlib.sha256(b"other").hexdigest()),
        ("sha256", DIGEST.upper()),
        ("sha256", None),
        ("signature", None),
        ("signature", ""),
        ("signature", "v2." + "A" * 43),
        ("signature", "garbage"),
        ("signature", "v1.тест"),
    ],
)
def test_any_tampered_field_is_forbidden(signer: UrlSigner, field: str, value: str | None) -> None:
    query = _tampered(signed_put(signer), field, value)

    with pytest.raises(Forbidden) as caught:
        signer.verify("PUT", KEY, query, now=NOW)
    assert caught.value.details["reason"] == "invalid_signature"


def test_every_character_of_the_signature_matters(signer: UrlSigner) -> None:
    query = signed_put(signer)
    signature = query["signature"]
    prefix = len("v1.")
    for index in range(prefix, len(signature)):
        flipped = "B" if signature[index] != "B" else "C"
        forged = dict(query, signature=signature[:index] + flipped + signature[index + 1 :])
        with pytest.raises(Forbidden):
            signer.verify("PUT", KEY, forged, now=NOW)


def test_adding_limits_to_a_url_signed_without_them_is_forbidden(signer: UrlSigner) -> None:
    query = signer.sign("PUT", KEY, expires_at=NOW + 60)
    for extra in ({"max_bytes": "10"}, {"sha256": DIGEST}):
        with pytest.raises(Forbidden):
            signer.verify("PUT", KEY, {**query, **extra}, now=NOW)


def test_unrelated_query_parameters_are_ignored(signer: UrlSigner) -> None:
    query = {**signed_put(signer), "cache_buster": "123"}
    assert signer.verify("PUT", KEY, query, now=NOW).key == KEY


@pytest.mark.parametrize("now", [NOW + 600, NOW + 601, NOW + 10**6])
def test_expired_url_is_forbidden(signer: UrlSigner, now: int) -> None:
    query = signed_put(signer)

    with pytest.raises(Forbidden) as caught:
        signer.verify("PUT", KEY, query, now=now)
    assert caught.value.details["reason"] == "expired"


def test_url_is_valid_until_its_last_second(signer: UrlSigner) -> None:
    assert signer.verify("PUT", KEY, signed_put(signer), now=NOW + 599).expires_at == NOW + 600


@pytest.mark.parametrize("method", ["GET", "DELETE", "POST", "HEAD", "", "PUT\n"])
def test_url_for_put_does_not_allow_another_method(signer: UrlSigner, method: str) -> None:
    with pytest.raises(Forbidden):
        signer.verify(method, KEY, signed_put(signer), now=NOW)


@pytest.mark.parametrize(
    "other_key",
    [
        "uploads/u2/0123456789abcdef0123456789abcdef.mp3",  # another user's key
        "uploads/u1/0123456789abcdef0123456789abcdef.wav",
        KEY + "x",
        "uploads/u1/../u1/0123456789abcdef0123456789abcdef.mp3",
        "",
    ],
)
def test_url_for_one_key_does_not_open_another(signer: UrlSigner, other_key: str) -> None:
    with pytest.raises(Forbidden):
        signer.verify("PUT", other_key, signed_put(signer), now=NOW)


def test_url_signed_with_another_secret_is_forbidden(signer: UrlSigner) -> None:
    query = UrlSigner("another-secret").sign("PUT", KEY, expires_at=NOW + 600, max_bytes=5000, sha256=DIGEST)
    with pytest.raises(Forbidden):
        signer.verify("PUT", KEY, query, now=NOW)


def test_signature_is_compared_in_constant_time(signer: UrlSigner, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real_compare = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    query = signed_put(signer)
    signer.verify("PUT", KEY, query, now=NOW)
    with pytest.raises(Forbidden):
        signer.verify("PUT", KEY, {**query, "max_bytes": "9"}, now=NOW)

    assert len(calls) == 2
    assert calls[0][1] == query["signature"].encode()


def test_signing_refuses_keys_that_are_not_valid(signer: UrlSigner) -> None:
    with pytest.raises(InvalidObjectKey):
        signer.sign("PUT", "../etc/passwd", expires_at=NOW)


def test_signing_refuses_a_malformed_sha256(signer: UrlSigner) -> None:
    with pytest.raises(InvalidInput):
        signer.sign("PUT", KEY, expires_at=NOW, sha256="abc")


@pytest.mark.parametrize(("expires_at", "max_bytes"), [(-1, None), (NOW, -5), (True, None)])
def test_signing_refuses_impossible_numbers(
    signer: UrlSigner, expires_at: int, max_bytes: int | None
) -> None:
    with pytest.raises(ValueError):
        signer.sign("PUT", KEY, expires_at=expires_at, max_bytes=max_bytes)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        UrlSigner("")


@pytest.mark.parametrize("sha256", [None, "ab" * 32])
@pytest.mark.parametrize("max_bytes", [None, 0, 10**12])
@pytest.mark.parametrize("key", ["uploads/u1/f.mp3", "a/b+c=d@e~f.tar.gz"])
def test_the_url_query_is_the_signed_query_urlencoded(
    key: str, max_bytes: int | None, sha256: str | None
) -> None:
    """The URL writes the query without urlencode when nothing needs escaping: it must be the same."""
    signer = UrlSigner("secret")
    url = signer.url("https://h/", "PUT", key, expires_at=1700000000, max_bytes=max_bytes, sha256=sha256)
    query = signer.sign("PUT", key, expires_at=1700000000, max_bytes=max_bytes, sha256=sha256)
    assert urlsplit(url).query == urlencode(query)
    assert dict(parse_qsl(urlsplit(url).query)) == query
