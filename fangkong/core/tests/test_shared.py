"""The pieces every layer shares: the errors, clean_text, actor, hooks and providers."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from fangkong.core.errors import FieldError, FieldErrors, actor, clean_text
from fangkong.core.hooks import Hook, Provider


class Refused(FieldError):
    field = "facility"


def test_a_refusal_is_field_errors_on_its_field_with_the_message_as_its_text():
    refusal = Refused("No bed left.")
    assert isinstance(refusal, FieldErrors)
    assert refusal.errors == {"facility": "No bed left."} and str(refusal) == "No bed left."
    assert Refused("Elsewhere.", field="bed_kind").errors == {"bed_kind": "Elsewhere."}


def test_clean_text_collapses_or_strips_and_refuses_what_is_missing_or_too_long():
    assert clean_text("  张   三 \n", "name", limit=10) == "张 三"
    assert clean_text("  line one\n  line two  ", "note", limit=100, collapse=False) == "line one\n  line two"
    assert clean_text(None, "note", limit=5) == ""
    with pytest.raises(FieldErrors) as missing:
        clean_text("   ", "reason", limit=10, required=True)
    assert missing.value.errors == {"reason": "Give a reason."}
    with pytest.raises(FieldErrors) as other:
        clean_text("", "place", limit=10, required=True)
    assert other.value.errors == {"place": "This field is required."}
    errors: dict[str, str] = {}
    assert clean_text("abcdef", "code", limit=3, errors=errors) == "abcdef"
    assert errors == {"code": "Longer than 3 characters."}
    errors = {}
    clean_text("", "name", limit=3, required=True, errors=errors, required_message="Name it.")
    clean_text("abcd", "title", limit=3, errors=errors, too_long_message="Titles stop at %(n)d.")
    assert errors == {"name": "Name it.", "title": "Titles stop at 3."}


@pytest.mark.django_db
def test_actor_is_none_for_nobody_and_for_the_anonymous(city):
    assert actor(None) is None and actor(AnonymousUser()) is None
    assert actor(city.users["grid_a"]) == city.users["grid_a"]


def test_a_hook_calls_each_receiver_once_in_order_until_unregistered():
    calls: list[tuple[str, int]] = []
    moved: Hook[[list[int]]] = Hook("test.moved")

    def first(ids: list[int]) -> None:
        calls.append(("first", len(ids)))

    def second(ids: list[int]) -> None:
        calls.append(("second", len(ids)))

    moved.register(first)
    moved.register(first)  # ready() may run twice
    moved.register(second)
    moved.fire([1, 2])
    moved.unregister(first)
    moved.fire([3])
    assert calls == [("first", 2), ("second", 2), ("second", 1)]


def test_a_provider_answers_with_its_default_until_an_app_provides():
    beds: Provider[[int], int] = Provider("test.beds", lambda facility_id: 0)
    assert beds(7) == 0
    beds.provide(lambda facility_id: facility_id * 10)
    assert beds(7) == 70
