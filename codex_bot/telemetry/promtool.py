"""Turn an OpenMetrics file into TSDB blocks with ``promtool tsdb create-blocks-from openmetrics``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from codex_bot.errors import UserError

# promtool reads the whole input once to find its time range, then once more per block it writes.
# Its blocks are 2h·3ⁿ long (n = 0…9, the longest it picks not over --max-block-duration, a hidden
# flag in 2.42) and aligned to multiples of that length since the epoch.
_HOUR_MS = 3_600_000
BLOCK_LENGTHS_MS: tuple[int, ...] = tuple(2 * _HOUR_MS * 3**n for n in range(10))


def block_duration(first_ms: int, last_ms: int) -> str:
    """The ``--max-block-duration`` that puts samples from ``first_ms`` to ``last_ms`` in one block.

    The shortest such length, so two passes over the input in all (the longest one otherwise).
    Prometheus leaves a block longer than its own compaction ranges as it is; retention drops a
    block as a whole, once all of it is older than the retention time.
    """
    fitting = (length for length in BLOCK_LENGTHS_MS if first_ms // length == last_ms // length)
    return f"{next(fitting, BLOCK_LENGTHS_MS[-1]) // _HOUR_MS}h"


def create_blocks(
    openmetrics_file: Path, tsdb_dir: Path, first_second: int, last_second: int, promtool: str = "promtool"
) -> None:
    """Import ``openmetrics_file`` (samples from ``first_second`` to ``last_second``, unix seconds) into
    ``tsdb_dir`` (created if missing); failures are a :class:`UserError`."""
    binary = shutil.which(promtool)
    if binary is None:
        raise UserError(f"{promtool!r} not found: install Prometheus' promtool (Debian package 'prometheus')")
    tsdb_dir.mkdir(parents=True, exist_ok=True)
    duration = block_duration(first_second * 1000, last_second * 1000)
    command = [
        binary,
        "tsdb",
        "create-blocks-from",
        "openmetrics",
        f"--max-block-duration={duration}",
        "-q",
        str(openmetrics_file),
        str(tsdb_dir),
    ]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-2000:]
        raise UserError(f"promtool failed (exit {result.returncode}): {detail}")
