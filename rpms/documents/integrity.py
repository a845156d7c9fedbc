"""What makes an issued document checkable: the canonical form of its content, the content hash,
the verification code, and the refusal to print personal identifiers.

- Canonical JSON: keys sorted, no insignificant whitespace, UTF-8 (not \\u escapes), dates as ISO
  strings. The same content always gives the same bytes, hence the same SHA-256.
- Verification codes: 16 characters from an alphabet without look-alikes, drawn with `secrets`;
  printed in four groups of four. Lookups ignore case, spaces and dashes.
- Personal identifiers: an 18-digit ID-number-like or 11-digit mobile-like string anywhere in the
  content is refused. Callers must not put them there; this is defence in depth, since a printed
  document cannot be recalled."""
import datetime
import decimal
import hashlib
import json
import math
import re
import secrets
import uuid

# Unambiguous alphabet: no 0/O, 1/I/L, so a code read aloud or typed from paper survives.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16

# 17 digits and a check digit (digit or X), not part of a longer run of digits.
_ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
# Mainland mobile numbers: 11 digits starting with 1, not part of a longer run of digits.
_MOBILE_RE = re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])")
# "138 0013 8000", "138-0013-8000", "+86 138…": separators between digits hide nothing.
_DIGIT_SEPARATOR_RE = re.compile(r"(?<=[0-9])[\s\-‐–—.·]+(?=[0-9Xx])")


def canonical(value, path: str = "context"):
    """A JSON-safe deep copy of `value` (dates → ISO strings, Decimal/UUID → str, tuples → lists).
    Anything else (model instances, objects, sets) is refused: a snapshot must be plain data."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"文书内容 {path} 含无效数值。")
        return value
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"文书内容 {path} 的键必须是字符串。")
            out[key] = canonical(item, f"{path}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [canonical(item, f"{path}[{i}]") for i, item in enumerate(value)]
    raise ValueError(f"文书内容 {path} 含无法保存的数据类型（{type(value).__name__}）。")


def canonical_json(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def content_hash(*, kind: str, title: str, number: str, context: dict) -> str:
    """SHA-256 (hex) of the canonical JSON of kind, title, number and the context snapshot."""
    payload = {"kind": str(kind), "title": title, "number": number, "context": canonical(context)}
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def _strings(value, path: str):
    """Every string (and number, as text) in a nested structure, keys included, with its path."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", str(key)
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, (str, int, decimal.Decimal)):
        yield path, str(value)


def personal_identifier_findings(value, path: str = "context") -> list[tuple[str, str]]:
    """[(path, "身份证号"|"手机号"), ...] for each ID-number-like or mobile-like string found."""
    findings = []
    for where, text in _strings(value, path):
        for candidate in {text, _DIGIT_SEPARATOR_RE.sub("", text)}:
            if _ID_NUMBER_RE.search(candidate):
                findings.append((where, "身份证号"))
                break
            if _MOBILE_RE.search(candidate):
                findings.append((where, "手机号"))
                break
    return findings


def refuse_personal_identifiers(value, path: str = "context") -> None:
    findings = personal_identifier_findings(value, path)
    if findings:
        where = "；".join(f"{p}（疑似{what}）" for p, what in findings[:5])
        raise ValueError(f"文书内容不得包含身份证号或手机号等个人信息：{where}。")


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


_CODE_STRIP_RE = re.compile(r"[\s\-‐–—_.·/]+")


def normalise_code(raw) -> str | None:
    """The stored form of a code as a person may type it ("abcd efgh-jkmn pqrs") or None if it
    cannot be a code at all."""
    if not isinstance(raw, str):
        return None
    code = _CODE_STRIP_RE.sub("", raw).upper()
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code
