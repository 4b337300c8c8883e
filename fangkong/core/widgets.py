"""Form widgets shared by every app, so a fix reaches every form at once.

DateInput: the browser's date picker only accepts ISO dates (value="2026-12-04"); Django's DateInput
formats with the active language's first input format, which for Chinese is "2026/12/04", and the
picker then shows an empty field (the default dates of a form silently vanish). Always ISO here.

TemperatureInput: a decimal keypad without a sample value: a placeholder "36.5" reads as a
reading already taken, so the empty field only hints the unit.
"""

from __future__ import annotations

from django import forms

ISO_DATE = "%Y-%m-%d"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None, format: str | None = None) -> None:  # noqa: A002 - Django's name
        super().__init__(attrs=attrs, format=format or ISO_DATE)


class TemperatureInput(forms.TextInput):
    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "°C", **(attrs or {})})
