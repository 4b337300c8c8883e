"""A form's `next` brings the user back into this site only."""

import pytest
from django.test import RequestFactory

from fangkong.core.redirects import safe_next


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/x", "javascript:alert(1)"])
def test_a_next_pointing_elsewhere_falls_back(target):
    request = RequestFactory().post("/x/", {"next": target})
    assert safe_next(request, "/home/") == "/home/"


def test_a_next_inside_the_site_is_followed():
    request = RequestFactory().post("/x/", {"next": "/observation/areas/420102/#missed"})
    assert safe_next(request, "/home/") == "/observation/areas/420102/#missed"
