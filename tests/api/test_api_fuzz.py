"""A bounded schemathesis fuzz run over every API operation: no input may cause a server error.

It runs in-process through Django's WSGI app, inside the pytest-django test database, as a
superuser and as a grid worker. Path ids are either generated or taken from the small city, so
the operations are exercised in scope as well as out of it.
"""

from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from fangkong.accounts.models import ApiToken

EXAMPLES_PER_OPERATION = 20  # bounded: the run stays short whatever the machine


@pytest.fixture
def wsgi_app():
    """Django's WSGI app, kept from closing the test transaction's connection after each request
    (what Django's own test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def pipeline(city) -> dict[str, object]:
    """A fever patient of grid A with a sample, a booked bed and its transfer, and a placement plan."""
    from fangkong.cases.samples import order_test, record_sample
    from fangkong.cases.services import open_case
    from fangkong.facilities.beds import place
    from fangkong.facilities.runs import run_placement

    case = open_case(city.users["grid_a"], city.residents["zhangwei"], "fever", "发热")
    test = record_sample(city.users["grid_a"], order_test(city.users["grid_a"], case), place="门诊")
    run = run_placement(city.users["root"])
    stay = place(city.users["root"], case, city.facilities["clinic"], "single_room")
    return {"/api/cases/": case, "/api/tests/": test, "/api/stays/": stay, "/api/transfers/": stay.transfer,
            "/api/placement/runs/": run, "/api/facilities/": city.facilities["clinic"]}


def known_path_parameters(city, path: str, objects: dict[str, object]) -> dict[str, object]:
    """Ids of objects in the grid worker's grid, by the kind of object the path names (for accounts: one
    the superuser manages)."""
    if path.startswith(("/api/areas/", "/api/screening/coverage/", "/api/targets/")):
        return {"code": city.areas["grid_a"].code}
    if path.startswith("/api/accounts/"):
        return {"id": city.users["grid_b"].pk}
    for prefix, obj in (("/api/residents/", city.residents["zhangwei"]), ("/api/households/", city.households["a101"]),
                        ("/api/buildings/", city.buildings["a1"]), ("/api/compounds/", city.compounds["qinghe"]),
                        *objects.items()):
        if path.startswith(prefix):
            return {"id": obj.pk}
    return {}


def fuzz_operation(strategy, headers: dict[str, str], calls: Counter) -> None:
    @given(case=strategy)
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), print_blob=True)
    def fuzz(case) -> None:
        response = case.call(headers=headers)
        calls[(case.operation.label, response.status_code)] += 1
        case.validate_response(response, checks=[not_a_server_error])

    fuzz()


@pytest.mark.slow
def test_no_generated_request_causes_a_server_error(city, wsgi_app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    calls: Counter[tuple[str, int]] = Counter()
    objects = pipeline(city)

    for persona in ("root", "grid_a"):
        _token, key = ApiToken.issue(city.users[persona], "fuzz")
        headers = {"Authorization": f"Bearer {key}"}
        for operation in operations:
            strategy = operation.as_strategy()
            known = known_path_parameters(city, operation.path, objects)
            if known:
                strategy = st.one_of(strategy, operation.as_strategy(path_parameters=known))

            fuzz_operation(strategy, headers, calls)

    total = sum(calls.values())
    labels = {label for label, _status in calls}
    assert total >= len(operations) * 2 * 5, calls
    assert len(labels) == len(operations)
    # Some calls got through validation and scope to a real answer, not only 4xx.
    assert sum(n for (_label, status), n in calls.items() if status in (200, 201)) >= len(operations), calls
