import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()  # rate-limit counters of the self-report link live in the cache
    yield
    cache.clear()
