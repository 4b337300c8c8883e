import pytest
from django.core.cache import cache

from fangkong.testing import PASSWORD, build_small_city


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Production keeps Django's slow PBKDF2; tests create many accounts.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _jobs_run_in_process(settings):
    # Jobs run where they are submitted (the SQLite demo's way, the same runner), so a test sees a started
    # import finished. The procrastinate queue with real workers has its own tests (fangkong/jobs/tests).
    settings.JOBS_BACKEND = "inline"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters live in the cache: a test (the crawl raises the limits and visits every link)
    # must not leave a client address over its limit for the next one.
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _english_messages_in_unit_tests(request, settings):
    # Unit tests assert the English msgids; the browser tests (tests/e2e) and tests that activate a
    # language themselves see the Chinese default.
    if "tests/e2e" not in request.node.nodeid and "zh" not in request.node.name:
        settings.LANGUAGE_CODE = "en"


@pytest.fixture
def city(db):
    """The small fixed city with its personas (see fangkong/testing.py)."""
    return build_small_city()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def login(client):
    """Log a persona in with the Django test client: `login(city.users['grid_a'])`."""

    def _login(user):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return _login


def pytest_collection_modifyitems(items):
    """The browser tests and the crawl are slow by nature: `pytest -m "not slow"` leaves them out."""
    for item in items:
        if "tests/e2e/" in item.nodeid or "tests/crawl/" in item.nodeid:
            item.add_marker(pytest.mark.slow)
