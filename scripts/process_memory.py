"""Peak memory of a stage: resident set size of this process plus all its descendants, sampled in a thread.

Used by `make demo` (per step) and `make bench` (per benchmark). ``resource.getrusage`` cannot do this: its
``ru_maxrss`` is a high-water mark of the whole process lifetime (never reset between stages) and misses children
that are still running (the Spark JVM under pyspark, the Node runtime under jsii, dbt subprocesses).
Sampling every 100 ms can miss a shorter spike; the stages measured here run for seconds to minutes.
"""

from __future__ import annotations

import os
import threading

import psutil


def tree_rss_bytes(pid: int | None = None) -> int:
    """RSS of a process and every descendant alive right now (processes that exit mid-read are skipped)."""
    try:
        root = psutil.Process(pid or os.getpid())
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


class PeakMemory:
    """``with PeakMemory() as peak: ...`` then ``peak.peak_mb``: highest sampled RSS of the process tree."""

    def __init__(self, interval_s: float = 0.1, pid: int | None = None) -> None:
        self.interval_s = interval_s
        self.pid = pid
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        while True:
            self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self.pid))
            if self._stop.wait(self.interval_s):
                return

    def __enter__(self) -> "PeakMemory":
        self.peak_bytes = tree_rss_bytes(self.pid)
        self._thread = threading.Thread(target=self._sample, name="peak-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_bytes = max(self.peak_bytes, tree_rss_bytes(self.pid))

    @property
    def peak_mb(self) -> float:
        return round(self.peak_bytes / 2**20, 1)
