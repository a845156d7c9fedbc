"""The cities' rule books as documents with articles and items (政策文件, B22).

Each city's rule book is shipped as plain text in `data/policies/<city code>.txt` (copied unchanged from
the published documents; see data/policies/README.md) and parsed here into a `PolicyDocument`:

    第十九条 …            → article  B19   (anchor id "B19")
    （三）… / (三)…       → item     B19(3) (anchor id "B19-3")

The prefix (B, P) is the city's `article_prefix`, so a third city needs only its file. The text keeps the
source's wording; only the layout is repaired: a paragraph cut by a page break of the original (a blank
line after a line that stops mid-sentence) is joined again, and list dashes are dropped.

Parsing is pure and cached per file (path, size, modification time): pages and the `article_link` tag
call `rulebook(city)` freely."""
from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100}
CN_NUMERALS = "零〇一二两三四五六七八九十百"

_CHAPTER_RE = re.compile(rf"^第([{CN_NUMERALS}]+)章\s*(.*)$")
_ARTICLE_RE = re.compile(rf"^第([{CN_NUMERALS}]+)条\s*(.*)$")
_ITEM_RE = re.compile(rf"^(?:[-–—•·]\s*)?[（(]([{CN_NUMERALS}]+)[）)]\s*(.*)$")
_SUBITEM_RE = re.compile(r"^\d+[.．、]")
_ATTACHMENT_RE = re.compile(r"^附件\s*\d*$")
# A line ending like this closes its paragraph; anything else followed by a blank line was cut by a page break.
_TERMINAL = tuple("。；：！？”’」』）)")
_HEADING_PUNCTUATION = re.compile(r"[。，；：,;:！？]")
_HEADING_MAX = 15
_ITEM_HEADING_MAX = 30

# "B19(3)", "B19（3）", "P5", with the city's prefix.
_CODE_RE = re.compile(r"^([A-Z]{1,4})(\d{1,3})(?:[（(](\d{1,2})[）)])?$")
_REF_SPLIT_RE = re.compile(r"[、,，;；\s]+")


def cn_number(text: str) -> int:
    """Chinese numerals as used for articles and items: 一 … 九十九, 一百 …"""
    total, current = 0, 0
    for ch in text:
        if ch in CN_DIGITS:
            current = CN_DIGITS[ch]
        elif ch in CN_UNITS:
            total += (current or 1) * CN_UNITS[ch]
            current = 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + current


def cn_numeral(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n % 10] if n % 10 else "")
    if n < 100:
        return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
    return str(n)


def anchor_for(code: str) -> str:
    """The HTML id of an article or item: "B19" → "B19", "B19(3)" → "B19-3"."""
    parsed = parse_code(code)
    if parsed is None:
        return ""
    prefix, article, item = parsed
    return f"{prefix}{article}" + (f"-{item}" if item else "")


def parse_code(code: str) -> tuple[str, int, int | None] | None:
    match = _CODE_RE.match((code or "").strip())
    if not match:
        return None
    return match.group(1), int(match.group(2)), int(match.group(3)) if match.group(3) else None


def normalise_code(code: str) -> str:
    """"B19（3）" → "B19(3)"; anything that is no article code → ""."""
    parsed = parse_code(code)
    if parsed is None:
        return ""
    prefix, article, item = parsed
    return f"{prefix}{article}" + (f"({item})" if item else "")


def split_refs(text: str) -> list[str]:
    """The article codes in a reference such as "B11(2)、B22" (as `policy_article` returns them);
    parts that are no code are kept as they are, so nothing the policy says is lost."""
    return [part for part in _REF_SPLIT_RE.split(text or "") if part]


@dataclass(frozen=True)
class PolicyItem:
    code: str  # "B19(3)"
    number: int
    paragraphs: tuple[str, ...]
    heading: str = ""  # Pingdingshan's items open with a short title line (e.g. P3(1))

    @property
    def anchor(self) -> str:
        return anchor_for(self.code)

    @property
    def label(self) -> str:
        return f"（{cn_numeral(self.number)}）"

    @property
    def text(self) -> str:
        return "\n".join(([self.heading] if self.heading else []) + list(self.paragraphs))


@dataclass(frozen=True)
class PolicyArticle:
    code: str  # "B19"
    number: int
    heading: str = ""  # "总则" for Pingdingshan's "第一条 总则"
    chapter: str = ""  # "第五章 管理机制"
    paragraphs: tuple[str, ...] = ()
    items: tuple[PolicyItem, ...] = ()

    @property
    def anchor(self) -> str:
        return anchor_for(self.code)

    @property
    def label(self) -> str:
        return f"第{cn_numeral(self.number)}条"

    @property
    def text(self) -> str:
        return "\n".join(list(self.paragraphs) + [f"{i.label}{i.text}" for i in self.items])

    def item(self, number: int) -> PolicyItem | None:
        return next((i for i in self.items if i.number == number), None)


@dataclass(frozen=True)
class PolicyDocument:
    city_code: str
    prefix: str
    title: str
    source_name: str
    sha256: str
    articles: tuple[PolicyArticle, ...] = ()
    _index: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        for article in self.articles:
            self._index[article.code] = article
            for item in article.items:
                self._index[item.code] = item

    def get(self, code: str) -> PolicyArticle | PolicyItem | None:
        return self._index.get(normalise_code(code))

    def article_of(self, code: str) -> PolicyArticle | None:
        parsed = parse_code(code)
        if parsed is None:
            return None
        return self._index.get(f"{parsed[0]}{parsed[1]}")

    def describe(self, code: str) -> str:
        """"第十九条第（三）项" for B19(3); "" when the document has no such article or item."""
        clause = self.get(code)
        if clause is None:
            return ""
        if isinstance(clause, PolicyItem):
            article = self.article_of(code)
            return f"{article.label}第{clause.label}项"
        return clause.label

    @property
    def codes(self) -> list[str]:
        return list(self._index)

    @property
    def chapters(self) -> list[tuple[str, list[PolicyArticle]]]:
        """The articles grouped by chapter, in order (one group with an empty name when there are none)."""
        groups: list[tuple[str, list[PolicyArticle]]] = []
        for article in self.articles:
            if not groups or groups[-1][0] != article.chapter:
                groups.append((article.chapter, []))
            groups[-1][1].append(article)
        return groups


def _paragraphs(text: str) -> list[str]:
    """Non-empty lines, with paragraphs cut by a page break joined again."""
    blocks: list[str] = []
    blank_before = False
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip().replace("\u3000", " ").strip()
        if not line:
            blank_before = True
            continue
        structural = bool(_CHAPTER_RE.match(line) or _ARTICLE_RE.match(line) or _ITEM_RE.match(line)
                          or _SUBITEM_RE.match(line))
        if blocks and blank_before and not structural and not blocks[-1].endswith(_TERMINAL) \
                and not _CHAPTER_RE.match(blocks[-1]) and not _ATTACHMENT_RE.match(blocks[-1]):
            blocks[-1] += line
        else:
            blocks.append(line)
        blank_before = False
    return blocks


def _is_heading(rest: str) -> bool:
    return bool(rest) and len(rest) <= _HEADING_MAX and not _HEADING_PUNCTUATION.search(rest)


def parse_rulebook(text: str, *, prefix: str, city_code: str = "", source_name: str = "") -> PolicyDocument:
    """Parses a rule book's text into articles (第X条) with their items (（X）)."""
    if not prefix:
        raise ValueError("an article prefix (e.g. 'B') is required")
    preamble: list[str] = []
    chapter = ""
    articles: list[dict] = []

    def close_item(article):
        item = article.pop("_item", None)
        if item is not None:
            lines = item["lines"]
            heading = ""
            if len(lines) > 1 and len(lines[0]) <= _ITEM_HEADING_MAX and not lines[0].endswith(_TERMINAL):
                heading, lines = lines[0], lines[1:]
            article["items"].append(PolicyItem(
                code=f"{prefix}{article['number']}({item['number']})", number=item["number"],
                paragraphs=tuple(lines), heading=heading,
            ))

    for block in _paragraphs(text):
        chapter_match = _CHAPTER_RE.match(block)
        if chapter_match:
            if articles:
                close_item(articles[-1])
            chapter = f"第{chapter_match.group(1)}章 {chapter_match.group(2).strip()}".strip()
            continue
        article_match = _ARTICLE_RE.match(block)
        if article_match:
            if articles:
                close_item(articles[-1])
            number = cn_number(article_match.group(1))
            rest = article_match.group(2).strip()
            heading = rest if _is_heading(rest) else ""
            articles.append({"number": number, "heading": heading, "chapter": chapter,
                             "paragraphs": [] if heading or not rest else [rest], "items": []})
            continue
        if not articles:
            preamble.append(block)
            continue
        article = articles[-1]
        item_match = _ITEM_RE.match(block)
        if item_match:
            close_item(article)
            rest = item_match.group(2).strip()
            article["_item"] = {"number": cn_number(item_match.group(1)), "lines": [rest] if rest else []}
        elif "_item" in article:
            article["_item"]["lines"].append(block)
        else:
            article["paragraphs"].append(block)
    if articles:
        close_item(articles[-1])

    title_lines = [line for line in preamble if not _ATTACHMENT_RE.match(line)]
    return PolicyDocument(
        city_code=city_code,
        prefix=prefix,
        title="".join(title_lines),
        source_name=source_name,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        articles=tuple(
            PolicyArticle(
                code=f"{prefix}{a['number']}", number=a["number"], heading=a["heading"], chapter=a["chapter"],
                paragraphs=tuple(a["paragraphs"]), items=tuple(a["items"]),
            )
            for a in articles
        ),
    )


def policies_dir() -> Path:
    return Path(getattr(settings, "DATA_DIR", Path(settings.BASE_DIR) / "data")) / "policies"


def rulebook_path(city_code: str) -> Path:
    return policies_dir() / f"{city_code}.txt"


@functools.lru_cache(maxsize=16)
def _parse_file(path: str, prefix: str, city_code: str, size: int, mtime_ns: int) -> PolicyDocument:
    # size and mtime are part of the key so that a replaced file is parsed again.
    text = Path(path).read_text(encoding="utf-8")
    return parse_rulebook(text, prefix=prefix, city_code=city_code, source_name=Path(path).name)


def rulebook(city) -> PolicyDocument | None:
    """The city's rule book, parsed (cached), or None when no file is shipped for the city."""
    code = getattr(city, "code", "") or ""
    prefix = getattr(city, "article_prefix", "") or ""
    if not code or not prefix:
        return None
    path = rulebook_path(code)
    try:
        stat = path.stat()
    except OSError:
        return None
    return _parse_file(str(path), prefix, code, stat.st_size, stat.st_mtime_ns)
