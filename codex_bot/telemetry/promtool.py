"""Turn an OpenMetrics file into TSDB blocks with ``promtool tsdb create-blocks-from openmetrics``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from codex_bot.errors import UserError

# promtool re-reads the whole input once per block; the default 2 h blocks make a 30-day import
# hundreds of passes.  1000h lets it pick 486 h blocks (a few passes).  The flag is hidden in 2.42.
MAX_BLOCK_DURATION = "1000h"


def create_blocks(openmetrics_file: Path, tsdb_dir: Path, promtool: str = "promtool") -> None:
    """Import ``openmetrics_file`` into ``tsdb_dir`` (created if missing); failures are a :class:`UserError`."""
    binary = shutil.which(promtool)
    if binary is None:
        raise UserError(f"{promtool!r} not found: install Prometheus' promtool (Debian package 'prometheus')")
    tsdb_dir.mkdir(parents=True, exist_ok=True)
    command = [
        binary, "tsdb", "create-blocks-from", "openmetrics",
        f"--max-block-duration={MAX_BLOCK_DURATION}", "-q", str(openmetrics_file), str(tsdb_dir),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-2000:]
        raise UserError(f"promtool failed (exit {result.returncode}): {detail}")
