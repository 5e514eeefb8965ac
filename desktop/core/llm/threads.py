"""How many threads llama.cpp should run: the machine's physical cores.

ggml's threads spin while they wait, so two of them on one core (SMT siblings, or more threads than cores)
slow generation instead of speeding it up; fewer than the physical cores leaves speed unused (half the
logical CPUs gave 1 thread on a 2-core machine without SMT: 0.66x a raw loop on both cores).
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from functools import lru_cache
from pathlib import Path


def _linux_cores(sys_cpu: Path) -> int | None:
    """Distinct (package, core) pairs of the CPUs this process may run on, from sysfs."""
    try:
        allowed = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        allowed = None
    cores = set()
    for cpu in sys_cpu.glob("cpu[0-9]*"):
        index = int(cpu.name[3:])
        if allowed is not None and index not in allowed:
            continue
        try:
            core = (cpu / "topology" / "core_id").read_text().strip()
            package = (cpu / "topology" / "physical_package_id").read_text().strip()
        except OSError:
            continue
        cores.add((package, core))
    return len(cores) or None


def _macos_cores() -> int | None:
    try:
        out = subprocess.run(["sysctl", "-n", "hw.physicalcpu"], capture_output=True, text=True, timeout=5,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return int(out.strip()) if re.fullmatch(r"\s*\d+\s*", out) else None


def _windows_cores() -> int | None:
    try:
        import psutil  # type: ignore[import-untyped]  # not an app dependency: the developers' environment

        return int(psutil.cpu_count(logical=False) or 0) or None
    except ImportError:
        return None


@lru_cache(maxsize=1)
def physical_cores() -> int:
    """Physical cores available to this process (at least 1). Unknown topology: the logical CPU count."""
    system = platform.system()
    found = (_linux_cores(Path("/sys/devices/system/cpu")) if system == "Linux" else
             _macos_cores() if system == "Darwin" else _windows_cores())
    return max(1, found or os.cpu_count() or 1)
