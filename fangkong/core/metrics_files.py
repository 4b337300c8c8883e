"""Prometheus' multiprocess directory kept small (deploy/gunicorn.conf.py, child_exit).

In multiprocess mode each gunicorn worker writes its counters and histograms to files named after its pid
(`counter_1234.db`, `histogram_1234.db`), and a scrape reads them all. gunicorn replaces each worker after about
a thousand requests (max_requests), so a busy server would leave thousands of dead workers' files a day in
/run (memory), each read again at every scrape. When a worker exits, the master folds its values into one
archive file per type (`counter_archive.db`: the dead worker's counts added to it) and deletes its files: the
sums a scrape reads stay the same, the directory stays at one file per live worker and type. Live gauges of the
dead worker are dropped (prometheus_client's mark_process_dead).

Imports no Django: it runs in gunicorn's master process.
"""

from __future__ import annotations

import os

from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import mark_process_dead

FOLDED_TYPES = ("counter", "histogram", "summary")


def fold_dead_process(pid: int, path: str) -> None:
    """Adds the dead process's counters, histograms and summaries into the archive files and removes its files.
    Only the gunicorn master calls it, one worker at a time, so the archive has one writer."""
    for kind in FOLDED_TYPES:
        dead = os.path.join(path, f"{kind}_{pid}.db")
        if not os.path.exists(dead):
            continue
        values = list(MmapedDict.read_all_values_from_file(dead))
        archive = MmapedDict(os.path.join(path, f"{kind}_archive.db"))
        try:
            for key, value, timestamp, _position in values:
                total, _ = archive.read_value(key)
                archive.write_value(key, total + value, timestamp)
        finally:
            archive.close()
        os.remove(dead)
    mark_process_dead(pid, path)
