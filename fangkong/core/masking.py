"""Masking of personal identifiers for list views (DESIGN §4)."""


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
