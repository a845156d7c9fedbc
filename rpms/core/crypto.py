"""Personal data encrypted at rest (GB/T 39786-2021, 重要数据的存储机密性): SM4 (GB/T 32907) and SM3 (GB/T 32905).

- `encrypt(text)` / `decrypt(stored)`: SM4 in GCM mode (authenticated: a wrong key or a changed byte is refused,
  never read as something else) with a random 12-byte nonce. The stored text is

      sm4g1$<key id>$<base64url(nonce | ciphertext | tag)>

  `sm4g1` names the construction (version 1), `<key id>` names the key (8 hex digits of a keyed SM3 of the
  key), so that `manage.py rotate_data_key` can tell values under the previous key from values under the
  current one. The header is authenticated too (GCM associated data). "" stays "" (an empty field says no
  more than a missing one); None stays None.
- `blind_index(value, kind=...)`: a keyed SM3 HMAC (hex, 64 characters) of the normalised value (NFKC, no
  spaces, upper case), for lookups and duplicate checks without decrypting: equal values give equal indexes,
  and without the key the index tells nothing. `kind` ("id_number", "mobile", ...) keeps an identity number
  and a mobile number with the same digits apart.

Keys come from settings: `RPMS_DATA_KEY` (the current key; production reads it from the environment and
refuses to start without it, rpms.core.checks rpms.E020) and `RPMS_DATA_KEY_PREVIOUS` (the key being rotated
away from, readable until `rotate_data_key` has run). Each is a secret string of at least 32 characters
(`python -c "import secrets; print(secrets.token_hex(32))"`); the SM4 key (128 bits), the index key and the
key id are derived from it with HMAC-SM3 and distinct labels, so the index key changes with the data key.
"""
from __future__ import annotations

import base64
import binascii
import functools
import os
import unicodedata
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings

__all__ = [
    "PREFIX", "DataKey", "DataKeyError", "blind_index", "current_key", "decrypt", "encrypt", "is_encrypted",
    "key_id_of", "previous_key", "stored_length",
]

PREFIX = "sm4g1"
SEPARATOR = "$"
NONCE_BYTES = 12
TAG_BYTES = 16
MIN_KEY_CHARS = 32
KEY_ID_HEX = 8
INDEX_HEX = 64  # SM3: 256 bits


class DataKeyError(Exception):
    """A value that cannot be decrypted (unknown key, wrong key, changed bytes) or a key that cannot be used."""


def sm3_hmac(key: bytes, *parts: bytes) -> bytes:
    """The SM3 HMAC (GB/T 32905) of `parts` in turn under `key`: the data keys' derivation, the blind index and
    the audit trail's chain (rpms.core.audit_chain)."""
    mac = hmac.HMAC(key, hashes.SM3())
    for part in parts:
        mac.update(part)
    return mac.finalize()


@dataclass(frozen=True)
class DataKey:
    """The keys derived from one secret: the SM4 key, the blind-index key and the key id."""

    key_id: str
    sm4_key: bytes
    index_key: bytes

    @classmethod
    @functools.lru_cache(maxsize=8)
    def from_secret(cls, secret: str) -> DataKey:
        secret = (secret or "").strip()
        if len(secret) < MIN_KEY_CHARS:
            raise DataKeyError(f"数据加密密钥至少应有 {MIN_KEY_CHARS} 个字符（RPMS_DATA_KEY）。")
        material = secret.encode("utf-8")
        return cls(
            key_id=sm3_hmac(material, b"rpms key id v1").hex()[:KEY_ID_HEX],
            sm4_key=sm3_hmac(material, b"rpms sm4 data encryption v1")[:16],
            index_key=sm3_hmac(material, b"rpms sm3 blind index v1"),
        )


def current_key() -> DataKey:
    return DataKey.from_secret(getattr(settings, "RPMS_DATA_KEY", ""))


def previous_key() -> DataKey | None:
    secret = getattr(settings, "RPMS_DATA_KEY_PREVIOUS", "") or ""
    return DataKey.from_secret(secret) if secret.strip() else None


def _keys_by_id() -> dict[str, DataKey]:
    keys = {}
    previous = previous_key()
    if previous is not None:
        keys[previous.key_id] = previous
    current = current_key()
    keys[current.key_id] = current
    return keys


def is_encrypted(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX + SEPARATOR)


def key_id_of(stored: str) -> str:
    """The key id named by a stored value ("" for an empty or unencrypted value)."""
    if not is_encrypted(stored):
        return ""
    parts = stored.split(SEPARATOR)
    return parts[1] if len(parts) == 3 else ""


def stored_length(max_chars: int) -> int:
    """The column width that holds `max_chars` characters of any script once encrypted."""
    raw = NONCE_BYTES + 4 * max_chars + TAG_BYTES
    return len(PREFIX) + 1 + KEY_ID_HEX + 1 + 4 * ((raw + 2) // 3)


def encrypt(value, *, key: DataKey | None = None):
    """`value` (text) encrypted under `key` (the current key by default); "" and None are kept as they are."""
    if value is None or value == "":
        return value
    key = key or current_key()
    header = f"{PREFIX}{SEPARATOR}{key.key_id}{SEPARATOR}"
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(key.sm4_key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(header.encode("ascii"))
    body = encryptor.update(str(value).encode("utf-8")) + encryptor.finalize()
    return header + base64.urlsafe_b64encode(nonce + body + encryptor.tag).decode("ascii")


def decrypt(stored, *, keys: dict[str, DataKey] | None = None):
    """The text held in `stored`; DataKeyError if it is not a value of this format, names a key that is not
    configured, or does not authenticate under it (wrong key, changed bytes)."""
    if stored is None or stored == "":
        return stored
    if not is_encrypted(stored):
        raise DataKeyError("数据未按规定加密存储（缺少 SM4 密文标识）。")
    parts = stored.split(SEPARATOR)
    if len(parts) != 3:
        raise DataKeyError("密文格式不正确。")
    _, key_id, payload = parts
    key = (keys if keys is not None else _keys_by_id()).get(key_id)
    if key is None:
        raise DataKeyError(f"密文所用的密钥（{key_id}）未配置：请设置 RPMS_DATA_KEY 或 RPMS_DATA_KEY_PREVIOUS。")
    try:
        raw = base64.urlsafe_b64decode(payload.encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise DataKeyError("密文格式不正确。") from exc
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DataKeyError("密文格式不正确。")
    nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key.sm4_key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(f"{PREFIX}{SEPARATOR}{key_id}{SEPARATOR}".encode("ascii"))
    try:
        plain = decryptor.update(body) + decryptor.finalize()
    except InvalidTag as exc:
        raise DataKeyError("密文校验失败：密钥不符或数据已被改动。") from exc
    return plain.decode("utf-8")


def normalise(value) -> str:
    """The form that the blind index is computed from: NFKC (full-width digits as ASCII), no whitespace, upper case."""
    return "".join(unicodedata.normalize("NFKC", str(value or "")).split()).upper()


def blind_index(value, *, kind: str, key: DataKey | None = None) -> str:
    """The keyed SM3 HMAC (hex) of the normalised `value`; "" for an empty value."""
    text = normalise(value)
    if not text:
        return ""
    key = key or current_key()
    return sm3_hmac(key.index_key, kind.encode("ascii") + b"\x00" + text.encode("utf-8")).hex()

