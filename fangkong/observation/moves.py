"""Rows follow a person who moves house: an observation file and everything under it carry the person's
area code (scoping is one indexed prefix), so a move rewrites them (the people app's RESIDENTS_MOVED hook).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from fangkong.people.moves import id_chunks


def follow_moved_residents(resident_ids: Sequence[int]) -> None:
    """Residents moved house: their files, reports, alerts, decisions and notes take the new area code."""
    with connection.cursor() as cursor:
        for part, marks in id_chunks(resident_ids):
            cursor.execute(
                "UPDATE observation_observationfile AS t SET area_code = r.area_code FROM people_resident AS r "
                f"WHERE r.id = t.resident_id AND t.area_code <> r.area_code AND r.id IN ({marks})", part)
            for table in ("observation_healthreport", "observation_alert", "observation_filedecision", "observation_followupnote"):
                cursor.execute(
                    f"UPDATE {table} AS t SET area_code = f.area_code FROM observation_observationfile AS f "
                    f"WHERE f.id = t.file_id AND t.area_code <> f.area_code AND f.resident_id IN ({marks})", part)
