"""Masking of personal identifiers for list views (DESIGN §4)."""

import re

# An ID number (15 or 18 characters, the last may be X) or a phone inside free text: 7 digits or more.
IDENTIFIER_IN_TEXT = re.compile(r"\d{6,}[\dXx]")


def mask_document(number: str | None) -> str:
    """4201**********1234: first four and last four characters kept."""
    if not number:
        return ""
    if len(number) <= 8:
        return number[:1] + "*" * (len(number) - 1)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str | None) -> str:
    """138****8000: first three and last four digits kept."""
    if not phone:
        return ""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_name(name: str | None) -> str:
    """张伟 → 张*, 王建国 → 王*国, Anna Smith → A*********h: for pages seen without the right to the
    name (self-report links, people outside the viewer's scope on a graph)."""
    if not name or len(name) <= 1:
        return name or ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_identifiers(text: str | None) -> str:
    """Free text a person typed (a search term kept in the audit log) with every ID number or phone in it
    masked like a list masks them: 4201**********1234, 138****8000."""
    if not text:
        return ""
    return IDENTIFIER_IN_TEXT.sub(
        lambda m: mask_document(m.group()) if len(m.group()) >= 15 else mask_phone(m.group()), text)
