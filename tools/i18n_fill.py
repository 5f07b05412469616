"""Fill a .ts file's unfinished messages from a {source: translation} dict in a Python
file (a translator's batch; Qt Linguist does the same one message at a time).

    .venv/bin/python tools/i18n_fill.py resources/i18n/lipsync_studio_zh_CN.ts BATCH.py
"""

from __future__ import annotations

import runpy
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def fill(ts: Path, table: dict[str, str]) -> int:
    tree = ET.parse(ts)
    filled = 0
    for message in tree.getroot().iter("message"):
        source = message.findtext("source") or ""
        translation = message.find("translation")
        if translation is None or source not in table:
            continue
        if translation.get("type") == "unfinished" or not (translation.text or "").strip():
            translation.text = table[source]
            translation.attrib.pop("type", None)
            filled += 1
    tree.write(ts, encoding="utf-8", xml_declaration=True)
    return filled


if __name__ == "__main__":
    ts, batch = Path(sys.argv[1]), Path(sys.argv[2])
    print(f"filled {fill(ts, runpy.run_path(str(batch))['ZH'])}")
