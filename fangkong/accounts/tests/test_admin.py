def test_the_admin_is_for_superusers_only(city, login):
    assert login(city.users["root"]).get("/admin/accounts/user/").status_code == 200
    response = login(city.users["city"]).get("/admin/accounts/user/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_account_needs_an_area_of_its_roles_level(city):
    import pytest
    from django.core.exceptions import ValidationError

    user = city.users["grid_a"]
    user.area = city.areas["qinghe"]  # a community, not a grid
    with pytest.raises(ValidationError):
        user.full_clean()
