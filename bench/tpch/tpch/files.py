"""What every benchmark here writes its results with (this package's and bench/skew's): JSON
files, and the machine a run was made on, as the reports name it."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                 platform.processor())
    return f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}"


def write_json(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2) + "\n")


def read_json(path: Path):
    return json.loads(path.read_text())
