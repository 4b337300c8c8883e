"""Beds: booking, admission, discharge, closing for cleaning, and never over-booking."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from fangkong.cases import services as cases
from fangkong.cases.models import Case, Placement, Status
from fangkong.core.errors import FieldErrors
from fangkong.facilities import beds, registry, runs, transfers
from fangkong.facilities.access import access_facility_work, access_stay, access_transfer
from fangkong.facilities.models import BedPool, Stay, StayStatus, Transfer, TransferStatus
from fangkong.people.models import Resident, SpecialGroup
from fangkong.policy.services import change_policy

pytestmark = pytest.mark.django_db


def pool(facility, kind):
    return BedPool.objects.get(facility=facility, kind=kind)


def waiting(city, who, status=Status.CONFIRMED, severity="mild"):
    return cases.open_case(city.users["community"], city.residents[who], status, "登记", severity=severity)


def test_placing_books_a_bed_and_orders_a_transfer_from_home(city):
    case = waiting(city, "zhangwei", severity="severe")
    stay = beds.place(city.users["district"], case, city.facilities["hospital"], "ordinary")
    assert pool(city.facilities["hospital"], "ordinary").booked == 1
    case.refresh_from_db()
    assert case.placement == Placement.BOOKED
    transfer = stay.transfer
    assert transfer.status == TransferStatus.REQUESTED and transfer.vehicle == "ambulance_120"  # severe: by 120
    assert transfer.pickup_address == "青和居小区1栋1单元101"


def test_the_policy_decides_who_may_take_which_bed(city):
    suspected = waiting(city, "zhangwei", Status.SUSPECTED)
    with pytest.raises(FieldErrors, match="does not send"):
        beds.place(city.users["district"], suspected, city.facilities["shelter"], "ordinary")  # never shared
    with pytest.raises(FieldErrors, match="does not send"):
        beds.place(city.users["district"], suspected, city.facilities["hospital"], "ordinary")  # single rooms only
    beds.place(city.users["district"], suspected, city.facilities["isolation"], "single_room")
    critical = waiting(city, "lina", severity="critical")
    with pytest.raises(FieldErrors, match="does not send"):
        beds.place(city.users["district"], critical, city.facilities["shelter"], "ordinary")


def test_the_last_bed_goes_to_one_person_and_the_next_is_refused_clearly(city):
    isolation = city.facilities["isolation"]
    BedPool.objects.filter(facility=isolation).update(capacity=1)
    beds.place(city.users["district"], waiting(city, "zhangwei", Status.CLOSE_CONTACT), isolation, "single_room")
    with pytest.raises(beds.BedUnavailable, match="No free Single room is left at 江岸集中隔离点"):
        beds.place(city.users["district"], waiting(city, "lina", Status.CLOSE_CONTACT), isolation, "single_room")
    assert pool(isolation, "single_room").booked == 1 and Stay.objects.count() == 1


def test_the_database_refuses_an_over_booking_written_around_the_service(city):
    with pytest.raises(IntegrityError), transaction.atomic():
        BedPool.objects.filter(facility=city.facilities["isolation"]).update(booked=F("capacity") + 1)


def test_admission_fills_the_bed_and_frees_the_one_held_elsewhere(city):
    district = city.users["district"]
    case = waiting(city, "zhangwei", Status.FEVER)
    stay = beds.place(district, case, city.facilities["clinic"], "single_room")
    beds.admit(city.users["district"], stay)
    assert (pool(city.facilities["clinic"], "single_room").occupied, pool(city.facilities["clinic"], "single_room").booked) == (1, 0)
    # Tested positive at the clinic: suspected, so a single room in an isolation site; the clinic bed is freed on arrival.
    case.refresh_from_db()
    case = cases.transition(district, case, Status.TESTED, "采样")
    case = cases.transition(district, case, Status.SUSPECTED, "阳性")
    assert case.placement == Placement.WAITING
    moved = beds.place(district, case, city.facilities["isolation"], "single_room")
    assert moved.transfer.from_facility == city.facilities["clinic"] and moved.transfer.pickup_address == "江岸发热门诊门口"
    beds.admit(district, moved)
    case.refresh_from_db()
    assert case.placement == Placement.PLACED
    assert pool(city.facilities["clinic"], "single_room").occupied == 0
    assert Stay.objects.get(pk=stay.pk).end_reason == "transferred"
    assert Transfer.objects.get(stay=moved).status == TransferStatus.ARRIVED


def test_facility_staff_admit_only_into_their_own_facility(city):
    stay = beds.place(city.users["district"], waiting(city, "zhangwei"), city.facilities["shelter"], "ordinary")
    with pytest.raises((PermissionDenied, Http404)):  # the hospital's staff, not the shelter's
        beds.admit(city.users["facility"], access_stay(city.users["facility"], stay.pk))
    beds.admit(city.users["other_facility"], stay)
    assert Stay.objects.get(pk=stay.pk).status == StayStatus.ADMITTED


def test_a_cured_patient_is_discharged_then_goes_to_a_recovery_station(city):
    district = city.users["district"]
    stay = beds.place(district, waiting(city, "zhangwei"), city.facilities["shelter"], "ordinary")
    beds.admit(city.users["other_facility"], stay)
    beds.discharge(city.users["other_facility"], stay, "discharged", note="出院", cure_override="两次核酸阴性（外院报告）")
    case = stay.case
    case.refresh_from_db()
    assert case.status == Status.DISCHARGED and case.placement == Placement.WAITING
    assert pool(city.facilities["shelter"], "ordinary").occupied == 0
    recovery = beds.place(district, case, city.facilities["recovery"], "ordinary")
    beds.admit(district, recovery)
    case.refresh_from_db()
    assert case.status == Status.RECOVERY and case.placement == Placement.PLACED


def test_closing_beds_for_cleaning_takes_only_free_beds(city):
    shelter = city.facilities["shelter"]
    BedPool.objects.filter(facility=shelter).update(capacity=3)
    beds.place(city.users["district"], waiting(city, "zhangwei"), shelter, "ordinary")
    registry.change_closed_beds(city.users["other_facility"], shelter, "ordinary", 2)
    with pytest.raises(FieldErrors, match="Only free beds"):
        registry.change_closed_beds(city.users["other_facility"], shelter, "ordinary", 1)
    registry.change_closed_beds(city.users["other_facility"], shelter, "ordinary", -2)
    assert pool(shelter, "ordinary").closed == 0
    with pytest.raises((PermissionDenied, Http404)):
        registry.change_closed_beds(city.users["facility"], access_facility_work(city.users["facility"], shelter.pk), "ordinary", 1)


def test_a_new_category_that_no_longer_fits_cancels_the_booking(city):
    district = city.users["district"]
    case = waiting(city, "zhangwei", severity="mild")
    stay = beds.place(district, case, city.facilities["shelter"], "ordinary")
    case = cases.change_severity(district, case, "severe", "病情加重")
    assert case.placement == Placement.WAITING
    assert Stay.objects.get(pk=stay.pk).status == StayStatus.CANCELLED
    assert Transfer.objects.get(stay=stay).status == TransferStatus.CANCELLED
    assert pool(city.facilities["shelter"], "ordinary").booked == 0


def test_a_transfer_moves_only_forward_with_a_time_for_each_step(city):
    stay = beds.place(city.users["district"], waiting(city, "zhangwei"), city.facilities["shelter"], "ordinary")
    transfer = stay.transfer
    with pytest.raises(FieldErrors, match="cannot become"):
        transfers.advance_transfer(city.users["district"], transfer, "arrived")
    for step in ("dispatched", "picked_up", "arrived"):
        transfer = transfers.advance_transfer(city.users["district"], transfer, step, vehicle_label="鄂A·120-07")
    assert transfer.dispatched_at <= transfer.picked_up_at <= transfer.arrived_at
    assert transfer.vehicle_label == "鄂A·120-07"
    with pytest.raises((PermissionDenied, Http404)):
        transfers.advance_transfer(city.users["other_community"], access_transfer(city.users["other_community"], transfer.pk), "arrived")


def test_scope_of_facilities_for_staff_and_districts(city):
    from fangkong.facilities.models import Facility

    assert list(Facility.objects.restrict(city.users["facility"])) == [city.facilities["hospital"]]
    assert city.facilities["wuchang_hospital"] not in Facility.objects.restrict(city.users["grid_a"])
    assert Facility.objects.restrict(city.users["city"]).count() == 6
    assert not Facility.objects.restrict(city.users["guard"]).exists()



def test_a_facility_page_names_only_the_patients_the_viewer_may_see(city, login):
    # 张伟 (grid A) and 王芳 (grid B) both have a bed booked in the hospital: health data of two grids.
    for who in ("zhangwei", "wangfang"):
        beds.place(city.users["district"], waiting(city, who, severity="severe"), city.facilities["hospital"], "ordinary")
    url = f"/facilities/{city.facilities['hospital'].pk}/"
    page = login(city.users["grid_b"]).get(url).content.decode()
    assert "王芳" in page and "张伟" not in page
    staff_page = login(city.users["facility"]).get(url).content.decode()
    assert "王芳" in staff_page and "张伟" in staff_page


def test_the_engine_serves_a_pregnant_woman_and_an_infant_first_as_the_policy_says(city):
    BedPool.objects.filter(facility=city.facilities["shelter"]).update(capacity=1)
    long_wait = waiting(city, "zhangwei")
    pregnant = waiting(city, "lina")
    Resident.objects.filter(pk=city.residents["lina"].pk).update(special_groups=SpecialGroup.PREGNANT)
    Case.objects.filter(pk=long_wait.pk).update(waiting_since=timezone.now() - dt.timedelta(hours=10))

    def placed_by_engine():
        run = runs.run_placement(city.users["district"])
        proposal = run.proposals.get(facility__isnull=False)
        run.delete()
        return proposal.case_id

    assert placed_by_engine() == pregnant.pk
    change_policy(city.users["city"], {"placement_pregnant_first": False}, note="试行")
    assert placed_by_engine() == long_wait.pk
    # An infant (born 100 days ago) is served first while infants are younger than placement_infant_max_years.
    Resident.objects.filter(pk=city.residents["lina"].pk).update(birth_date=timezone.localdate() - dt.timedelta(days=100))
    assert placed_by_engine() == pregnant.pk
    change_policy(city.users["city"], {"placement_infant_max_years": 0}, note="试行")
    assert placed_by_engine() == long_wait.pk
