"""pb_vote's counting program as one downloadable file: a Python zip application of
``pb_vote/tally`` (the standard library and numpy only), so that anyone can count a round's
published ballots again with the very code that counted them, without installing pb_vote."""

import io
import zipfile
from functools import lru_cache
from pathlib import Path

import pb_vote.tally

TALLY_DIR = Path(pb_vote.tally.__file__).parent
# The file's bytes depend only on the code: the same download, the same checksum.
FIXED_TIME = (2026, 1, 1, 0, 0, 0)
MAIN = (
    "import sys\n"
    "from pb_vote.tally.cli import main\n"
    "sys.exit(main())\n"
)


@lru_cache(maxsize=1)
def counting_tool_file() -> bytes:
    """The zip application: ``python3 pb-vote.pyz tally FILE.pb`` runs ``pb-vote``."""
    buffer = io.BytesIO()
    buffer.write(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        entries = [("__main__.py", MAIN), ("pb_vote/__init__.py", "")]
        entries += [(f"pb_vote/tally/{path.name}", path.read_text(encoding="utf-8"))
                    for path in sorted(TALLY_DIR.glob("*.py"))]
        for name, text in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text)
    return buffer.getvalue()
