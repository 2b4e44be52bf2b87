"""Finding a CJK font reportlab can embed, and checking every character has a glyph.

Certificates are set in a 宋体/仿宋 face (``resolve_serif``): Windows' own
仿宋 or 宋体, else the freely licensed AR PL UMing (Debian's
``fonts-arphic-uming``, a TrueType .ttc reportlab embeds), else the general
font. Everything else (receipts, notices, reports) uses ``resolve``.

Order: a configured file → a font shipped in ``resources/fonts`` → the
system (Windows: 仿宋, 宋体, 黑体, 微软雅黑; Linux: WenQuanYi, Droid Sans
Fallback, AR PL, then anything fontconfig lists for Chinese). reportlab
embeds TrueType outlines only: CFF-based fonts (Noto/Source Han ``.otf`` and
their ``.ttc``) fail to load and are skipped, and the non-embedded CID fonts
(STSong-Light) are never used because they print blank without font packs.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from db.errors import StationDeskError
from desktop.paths import resources_dir

log = logging.getLogger("desktop.documents")


class NoFont(StationDeskError):
    def __init__(self) -> None:
        super().__init__(
            "no CJK TrueType font",
            "找不到可以嵌入 PDF 的中文字体。请安装“仿宋”“宋体”或“文泉驿微米黑”，或在“设置”中指定一个 .ttf 字体文件。",
        )


@dataclass(frozen=True)
class Font:
    name: str  # the reportlab font name
    path: str
    index: int
    family: str  # what a person calls it

    def ttfont(self) -> TTFont:
        return pdfmetrics.getFont(self.name)  # type: ignore[return-value]

    def missing(self, text: str) -> list[str]:
        """Characters of ``text`` this font has no glyph for (生僻字)."""
        cmap = self.ttfont().face.charToGlyph
        seen: list[str] = []
        for ch in text:
            if ch.isspace() or ord(ch) < 0x20:
                continue
            if ord(ch) not in cmap and ch not in seen:
                seen.append(ch)
        return seen


def _windows_fonts() -> list[tuple[Path, int, str]]:
    root = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
    return [
        (root / "simfang.ttf", 0, "仿宋"),
        (root / "simsun.ttc", 0, "宋体"),
        (root / "simhei.ttf", 0, "黑体"),
        (root / "msyh.ttc", 0, "微软雅黑"),
        (root / "msyh.ttf", 0, "微软雅黑"),
    ]


LINUX_FONTS = [
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0, "文泉驿微米黑"),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0, "文泉驿正黑"),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0, "Droid Sans Fallback"),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0, "AR PL UMing"),
]


def _fontconfig() -> list[tuple[Path, int, str]]:
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file", "index", "family"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in out.splitlines():
        path, _, rest = line.partition(":")
        if not path.lower().endswith((".ttf", ".ttc")):
            continue
        index = 0
        for part in rest.split(":"):
            if part.strip().startswith("index="):
                index = int(part.strip()[6:] or 0)
        found.append((Path(path), index, rest.split("family=")[-1].split(",")[0].strip() or Path(path).stem))
    return found


SERIF_LINUX = [
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0, "AR PL UMing（明体）"),
    ("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf", 0, "AR PL SungtiL GB（宋体）"),
]


def serif_candidates() -> list[tuple[Path, int, str]]:
    if sys.platform == "win32":
        return [c for c in _windows_fonts() if c[2] in ("仿宋", "宋体")]
    return [(Path(p), i, f) for p, i, f in SERIF_LINUX]


def candidates(configured: str | None = None) -> list[tuple[Path, int, str]]:
    out: list[tuple[Path, int, str]] = []
    if configured:
        out.append((Path(configured), 0, Path(configured).stem))
    shipped = resources_dir() / "fonts"
    if shipped.is_dir():
        out += [(p, 0, p.stem) for p in sorted(shipped.glob("*.tt[fc]"))]
    if sys.platform == "win32":
        out += _windows_fonts()
    else:
        out += [(Path(p), i, f) for p, i, f in LINUX_FONTS]
        out += _fontconfig()
    return out


def _first(found: list[tuple[Path, int, str]], prefix: str) -> Font | None:
    for i, (path, index, family) in enumerate(found):
        if not path.is_file():
            continue
        name = f"{prefix}{i}-{index}"
        try:
            pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=index))
        except Exception as e:  # noqa: BLE001 - reportlab raises TTFError and others for CFF/odd fonts
            log.info("font %s not usable: %s", path.name, e)
            continue
        return Font(name, str(path), index, family)
    return None


@lru_cache(maxsize=4)
def resolve(configured: str | None = None) -> Font:
    """The first candidate reportlab can load, registered under a stable name."""
    font = _first(candidates(configured), "StationCJK")
    if font is None:
        raise NoFont()
    return font


@lru_cache(maxsize=4)
def resolve_serif(configured: str | None = None) -> Font:
    """The certificate face: a configured font wins; else 仿宋/宋体 (or the
    free AR PL UMing); else the general font."""
    if configured:
        return resolve(configured)
    return _first(serif_candidates(), "StationSerif") or resolve()
