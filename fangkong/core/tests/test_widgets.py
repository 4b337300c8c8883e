"""Every date input of the project shows ISO dates to the browser's date picker, also in Chinese
(Django's DateInput would write the language's "2026/12/04", which the picker drops)."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil

from django import forms
from django.utils import translation

import fangkong
from fangkong.core.widgets import DateInput, TemperatureInput

DAY = dt.date(2026, 12, 4)


def _form_classes() -> set[type[forms.BaseForm]]:
    for module in pkgutil.walk_packages(fangkong.__path__, "fangkong."):
        if module.name.rsplit(".", 1)[-1] in ("forms", "views"):
            importlib.import_module(module.name)
    found, todo = set(), [forms.BaseForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("fangkong."):
                found.add(sub)
    return found


def test_the_shared_date_input_writes_iso_dates_in_chinese():
    with translation.override("zh-hans"):
        html = DateInput().render("day", DAY)
    assert 'type="date"' in html and 'value="2026-12-04"' in html


def test_every_date_field_of_every_form_renders_iso_in_chinese_zh():
    date_fields = [(cls, name, f) for cls in _form_classes() for name, f in cls.base_fields.items()
                   if isinstance(f, forms.DateField)]
    assert len(date_fields) >= 5  # campaign, audit, observation, tracing forms
    with translation.override("zh-hans"):
        for cls, name, field in date_fields:
            html = field.widget.render(name, DAY)
            assert 'type="date"' in html and 'value="2026-12-04"' in html, f"{cls.__module__}.{cls.__name__}.{name}"


def test_the_temperature_input_shows_no_sample_reading():
    html = TemperatureInput().render("temperature", None)
    assert "36.5" not in html and 'inputmode="decimal"' in html


def test_every_datetime_picker_renders_iso_in_chinese_zh():
    moment = dt.datetime(2026, 12, 4, 9, 30)
    pickers = [(cls, name, f) for cls in _form_classes() for name, f in cls.base_fields.items()
               if isinstance(f, forms.DateTimeField) and f.widget.attrs.get("type", getattr(f.widget, "input_type", ""))
               == "datetime-local"]
    assert pickers  # e.g. the lab result time
    with translation.override("zh-hans"):
        for cls, name, field in pickers:
            assert 'value="2026-12-04T09:30"' in field.widget.render(name, moment), f"{cls.__name__}.{name}"
