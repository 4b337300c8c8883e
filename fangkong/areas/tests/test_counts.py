"""The area-tree counts: one grouped query per table gives a subtree and its children."""

from fangkong.areas.services import area_counts, child_counts, tree_counts
from fangkong.people.models import SpecialGroup


def test_city_counts_add_up_over_districts_and_groups(city):
    total, districts = tree_counts("4201", 6)
    assert (total.households, total.residents, total.special) == (4, 5, 1)
    assert total.by_group[SpecialGroup.LONELY_ELDERLY] == 1 and total.by_group[SpecialGroup.LIVING_ALONE] == 1
    assert total.by_group[SpecialGroup.PREGNANT] == 0
    assert sorted(districts) == ["420102", "420106"]
    assert (districts["420102"].households, districts["420102"].residents) == (3, 4)
    assert (districts["420106"].households, districts["420106"].residents) == (1, 1)


def test_grids_of_a_community_and_a_leaf_grid(city):
    by_grid = child_counts(city.areas["qinghe"])
    assert by_grid["420102001001001"].residents == 3  # 张伟, 李娜 and 王建国 live in grid A
    assert by_grid["420102001001002"].residents == 1
    assert child_counts(city.areas["grid_a"]) == {}
    grid_a = area_counts("420102001001001")
    assert (grid_a.households, grid_a.residents, grid_a.special) == (2, 3, 1)


def test_an_empty_subtree_counts_zero(city):
    counts = area_counts("420106001001999")
    assert (counts.households, counts.residents, counts.special) == (0, 0, 0)
