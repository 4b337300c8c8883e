import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from fangkong.accounts.models import Role, User
from fangkong.areas.models import Area, Compound, Level
from fangkong.core.errors import FieldErrors
from fangkong.demo.accounts import DEMO_PASSWORD
from fangkong.demo.city import build_city
from fangkong.demo.generator import ROSTER_HEADERS, roster_rows
from fangkong.people.models import Resident
from fangkong.people.validation import clean_resident

FIELDS = {"姓名": "name", "性别": "sex", "证件类型": "doc_type", "证件号码": "doc_number", "出生日期": "birth_date",
          "联系电话": "phone", "与户主关系": "relation", "特殊人群": "special_groups", "户籍地址": "registered_address",
          "备注": "note"}


def as_fields(row: dict) -> dict:
    return {FIELDS[key]: value for key, value in row.items() if key in FIELDS}


@pytest.fixture
def demo(db):
    return build_city(2000, 11)


def test_demo_accounts_are_created_once_and_their_passwords_reset_on_every_run(demo, capsys):
    call_command("demo-accounts")
    first = capsys.readouterr().out
    User.objects.filter(username="grid").update(password="!")
    call_command("demo-accounts")
    assert User.objects.count() == 9
    assert User.objects.get(username="grid").check_password(DEMO_PASSWORD)
    assert User.objects.get(username="admin").is_superuser
    for username in ("city", "district", "street", "community", "grid", "facility", "guard", "volunteer", "admin"):
        assert username in first
    assert DEMO_PASSWORD in first


def test_demo_accounts_are_scoped_to_the_first_places_of_the_city(demo):
    call_command("demo-accounts", stdout=None)
    users = {u.username: u for u in User.objects.select_related("area", "compound")}
    community = users["community"].area
    assert users["city"].area.level == Level.CITY and users["city"].role == Role.CITY_COMMANDER
    assert users["district"].area == Area.objects.filter(level=Level.DISTRICT).order_by("code").first()
    assert community.code.startswith(users["street"].area.code) and users["street"].area.code.startswith(users["district"].area.code)
    assert users["volunteer"].area == community
    assert users["guard"].compound.community == community
    assert users["facility"].facility.kind == "designated_hospital"
    assert users["facility"].facility.area_code == users["district"].area.code

    grid = users["grid"].area
    assert grid.parent == community
    visible = Resident.objects.restrict(users["grid"])
    assert 0 < visible.count() < Resident.objects.restrict(users["community"]).count() < Resident.objects.count()
    assert set(visible.values_list("household__building__grid_id", flat=True)) == {grid.id}
    assert Resident.objects.restrict(users["city"]).count() == Resident.objects.count()
    assert list(Compound.objects.restrict(users["guard"])) == [users["guard"].compound]


def test_demo_accounts_need_a_demo_city(db):
    with pytest.raises(CommandError):
        call_command("demo-accounts")


def test_every_roster_row_passes_the_resident_validation():
    rows = list(roster_rows(1000, 5))
    assert len(rows) == 1000
    assert all(tuple(row) == ROSTER_HEADERS for row in rows)
    for row in rows:
        clean = clean_resident(as_fields(row))
        assert clean["doc_number"] == row["证件号码"]
    assert len({row["证件号码"] for row in rows}) == 1000
    assert {row["性别"] for row in rows} == {"男", "女"}
    assert "户主" in {row["与户主关系"] for row in rows}


def test_a_demo_roster_file_can_carry_deliberate_errors(tmp_path, capsys):
    path = tmp_path / "roster.xlsx"
    call_command("demo-city", "--roster-out", str(path), "--residents", "200", "--with-errors")
    assert "200" in capsys.readouterr().out
    sheet = load_workbook(path, read_only=True).active
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert tuple(header) == ROSTER_HEADERS
    assert len(rows) == 200
    records = [dict(zip(header, (cell if cell is not None else "" for cell in row), strict=True)) for row in rows]
    failing = {}
    for record in records:
        try:
            clean_resident(as_fields(record))
        except FieldErrors as exc:
            failing[record["证件号码"]] = set(exc.errors)
    assert sorted(field for fields in failing.values() for field in fields) == ["birth_date", "doc_number", "phone"]
    documents = [record["证件号码"] for record in records]
    assert len(documents) - len(set(documents)) == 1


def test_demo_cases_fill_every_board_once_with_consistent_beds(demo):
    from fangkong.cases.models import Case, Placement
    from fangkong.demo.cases import build_demo_cases
    from fangkong.facilities.models import BedPool, Facility, Stay

    call_command("demo-cases", stdout=None)
    first = Case.objects.count()
    assert first > 10 and Facility.objects.filter(kind="designated_hospital").exists()
    assert build_demo_cases() == {}  # idempotent
    assert {c.status for c in Case.objects.all()} >= {"fever", "suspected", "confirmed", "close_contact"}
    occupied = sum(BedPool.objects.values_list("occupied", flat=True))
    assert occupied == Stay.objects.filter(status="admitted").count() == Case.objects.filter(placement=Placement.PLACED).count()
    call_command("demo-accounts", stdout=None)
    staff = User.objects.get(username="facility")
    assert Case.objects.restrict(staff).count() == Stay.objects.filter(facility=staff.facility, status="admitted").count()
    grid = User.objects.get(username="grid")
    assert Case.objects.restrict(grid).exists()
