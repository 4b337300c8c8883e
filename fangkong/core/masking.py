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
