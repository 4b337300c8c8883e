"""Two commanders booking the last bed at the same moment, with real concurrent transactions on
PostgreSQL: one booking and one clear refusal, never two. (SQLite serialises every writer, so there is
no race to show there; this module runs on PostgreSQL only, and there it always runs.)"""

import threading

import pytest
from django.db import connection, connections, transaction

from fangkong.cases import services as cases
from fangkong.cases.models import Status
from fangkong.facilities import beds
from fangkong.facilities.models import BedPool, PlacementRun, Proposal, Stay, StayStatus
from fangkong.facilities.runs import confirm_run
from fangkong.testing import build_small_city

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="real row-level concurrency needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


def last_bed_city():
    city = build_small_city()
    isolation = city.facilities["isolation"]
    BedPool.objects.filter(facility=isolation).update(capacity=1)
    contacts = [cases.open_case(city.users["community"], city.residents[who], Status.CLOSE_CONTACT, "流调")
                for who in ("zhangwei", "lina")]
    return city, isolation, contacts


def race(*jobs):
    """Run the jobs in two threads, each in its own transaction on its own connection; both read the
    bed row (one free bed) before either books. Returns what each job returned or raised."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def run(index, job):
        try:
            with transaction.atomic():
                assert BedPool.objects.get(facility__name="江岸集中隔离点").free == 1
                barrier.wait(timeout=20)
                results[index] = job()
        except Exception as exc:  # noqa: BLE001  (the refusal is the point)
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_commanders_placing_two_people_into_the_last_bed(db):
    city, isolation, (zhang, li) = last_bed_city()
    results = race(
        lambda: beds.place(city.users["district"], zhang, isolation, "single_room"),
        lambda: beds.place(city.users["street"], li, isolation, "single_room"),
    )
    booked = [r for r in results if isinstance(r, Stay)]
    refused = [r for r in results if isinstance(r, beds.BedUnavailable)]
    assert len(booked) == 1 and len(refused) == 1, results
    assert str(refused[0]) == "No free Single room is left at 江岸集中隔离点."
    bed = BedPool.objects.get(facility=isolation)
    assert (bed.capacity, bed.booked) == (1, 1)
    assert Stay.objects.filter(status=StayStatus.BOOKED).count() == 1


def test_two_reviewed_plans_confirmed_at_the_same_moment_share_the_last_bed_correctly(db):
    city, isolation, (zhang, li) = last_bed_city()
    runs = []
    for user, case in ((city.users["district"], zhang), (city.users["street"], li)):
        run = PlacementRun.objects.create(created_by=user, area_code=user.area.code, people=1, placed=1)
        Proposal.objects.create(run=run, case=case, category=case.category, facility=isolation, bed_kind="single_room")
        runs.append((user, run))
    results = race(*[lambda u=u, r=r: confirm_run(u, r) for u, r in runs])
    assert sorted((r["confirmed"], r["refused"]) for r in results) == [(0, 1), (1, 0)], results
    refused = Proposal.objects.get(state="refused")
    assert refused.message == "No free Single room is left at 江岸集中隔离点."
    assert BedPool.objects.get(facility=isolation).booked == 1
    assert Stay.objects.count() == 1
