import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()  # rate-limit counters live in the cache
    yield
    cache.clear()
