"""Rows follow a person who moves house: tracing's rows carry the area code of their index case's person
(scoping is one indexed prefix), so a move rewrites them (the people app's RESIDENTS_MOVED hook).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from fangkong.people.moves import id_chunks


def follow_moved_residents(resident_ids: Sequence[int]) -> None:
    """The index case's person moved: the tracing rows of their investigations take the new area code
    (set-based; runs after the cases app's hook has moved the case)."""
    with connection.cursor() as cursor:
        for part, marks in id_chunks(resident_ids):
            cursor.execute(
                "UPDATE tracing_investigation AS t SET area_code = r.area_code FROM cases_case AS c, people_resident AS r "
                f"WHERE c.id = t.case_id AND r.id = c.resident_id AND t.area_code <> r.area_code AND r.id IN ({marks})", part)
            for table in ("tracing_contact", "tracing_disinfectiontask"):
                cursor.execute(
                    f"UPDATE {table} AS t SET area_code = i.area_code FROM tracing_investigation AS i, cases_case AS c "
                    f"WHERE i.id = t.investigation_id AND c.id = i.case_id AND t.area_code <> i.area_code "
                    f"AND c.resident_id IN ({marks})", part)
            cursor.execute(
                "UPDATE tracing_contactedge AS t SET area_code = r.area_code FROM people_resident AS r "
                f"WHERE r.id = t.source_resident_id AND t.area_code <> r.area_code AND r.id IN ({marks})", part)
            cursor.execute(
                "UPDATE tracing_infectionlink AS t SET area_code = r.area_code FROM cases_case AS c, people_resident AS r "
                f"WHERE c.id = t.infectee_id AND r.id = c.resident_id AND t.area_code <> r.area_code AND r.id IN ({marks})", part)
