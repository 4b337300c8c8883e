import pytest

from fangkong.cases import services as cases
from fangkong.cases.models import Status


@pytest.fixture
def confirmed(city):
    """张伟 of grid A, confirmed: the index case (his investigation opens by itself)."""
    return cases.open_case(city.users["community"], city.residents["zhangwei"], Status.CONFIRMED, "确诊", severity="mild")


@pytest.fixture
def investigation(confirmed):
    from fangkong.tracing.models import Investigation

    return Investigation.objects.get(case=confirmed)
