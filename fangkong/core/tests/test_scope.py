from fangkong.areas.models import Household
from fangkong.core.masking import mask_document, mask_phone
from fangkong.people.models import Resident


def test_masks_keep_only_the_ends():
    assert mask_document("420102198503021234") == "4201**********1234"
    assert mask_phone("13800138000") == "138****8000"


def test_grid_worker_sees_only_their_grid(city):
    visible = set(Resident.objects.restrict(city.users["grid_a"]).values_list("name", flat=True))
    assert visible == {"张伟", "李娜", "王建国"}


def test_neighbouring_grid_worker_sees_nothing_of_grid_a(city):
    visible = Resident.objects.restrict(city.users["grid_b"])
    assert list(visible.values_list("name", flat=True)) == ["王芳"]


def test_district_commander_sees_only_the_district(city):
    names = set(Resident.objects.restrict(city.users["district"]).values_list("name", flat=True))
    assert "刘洋" not in names and "张伟" in names


def test_gate_guard_sees_the_compound_only(city):
    households = Household.objects.restrict(city.users["guard"])
    assert set(households.values_list("compound__name", flat=True)) == {"青和居小区"}


def test_facility_staff_and_unscoped_users_see_no_residents(city):
    assert not Resident.objects.restrict(city.users["facility"]).exists()
    assert Resident.objects.restrict(city.users["root"]).count() == 5


def test_within_an_area_is_one_prefix_inside_the_scope_and_nothing_outside_it(city):
    from fangkong.areas.models import Household

    grid_a = city.areas["grid_a"].code
    community = city.users["community"]
    assert set(Household.objects.within(community, grid_a)) == set(Household.objects.filter(area_code__startswith=grid_a))
    assert str(Household.objects.within(community, grid_a).query).count("LIKE") == 1
    assert not Household.objects.within(city.users["grid_b"], grid_a).exists()  # the neighbouring grid sees nothing
    assert not Household.objects.within(city.users["other_community"], "420102").exists()
    guard_sees = set(Household.objects.within(city.users["guard"], "4201"))
    assert guard_sees and all(h.compound_id == city.users["guard"].compound_id for h in guard_sees)


def test_names_are_masked_alike_on_every_page_that_may_not_show_them():
    from fangkong.core.masking import mask_name

    assert [mask_name(n) for n in ("张伟", "王建国", "欧阳娜娜", "李", "")] == ["张*", "王*国", "欧**娜", "李", ""]
