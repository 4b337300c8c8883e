"""Log-in form (Django's AuthenticationForm, which calls authenticate(request, ...) as axes needs) and the
account management forms."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Q, QuerySet
from django.utils.translation import gettext, gettext_lazy

from fangkong.accounts import services
from fangkong.accounts.models import ROLE_AREA_LEVEL, Role, User, facilities_in_scope
from fangkong.areas.models import CODE_LENGTH, LEVEL_ORDER, Area, Level
from fangkong.core import permissions
from fangkong.core.errors import FieldErrors
from fangkong.core.masking import mask_phone


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


# --- Account management (manage_views.py) --------------------------------------------------------------
# Loose on purpose, like the resident form: `services.clean_account` (shared with the API) does the real
# checking, all fields at once, and its FieldErrors are attached to these fields by name. Required fields
# are marked in the template from REQUIRED.

# Pickers list at most this many areas or compounds; beyond that (a city commander of a big city) the
# field takes an area code or a compound number instead.
MAX_CHOICES = 500
AREA_FIELDS = ("area", "compound", "facility_id")
REQUIRED = ("username", "full_name", "role")
NUMBER = forms.TextInput(attrs={"inputmode": "numeric"})  # styled like the other inputs


def _area_choices(areas: list[Area]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Areas grouped by level, each labelled with its path within the list (青和居社区 › 第一网格)."""
    names = {a.code: a.name for a in areas}
    groups: dict[str, list[tuple[str, str]]] = {}
    for area in areas:
        path = [names[area.code[:n]] for n in CODE_LENGTH.values() if n < len(area.code) and area.code[:n] in names]
        groups.setdefault(area.level, []).append((area.code, " › ".join([*path, area.name])))
    return [(str(Level(level).label), groups[level]) for level in LEVEL_ORDER if level in groups]


def area_field(manager: User, *, required: bool, label: str) -> forms.Field:
    areas = list(services.assignable_areas(manager)[: MAX_CHOICES + 1])
    if len(areas) > MAX_CHOICES:
        return forms.CharField(label=label, required=required, max_length=15,
                               help_text=gettext_lazy("The area code, e.g. 420102001001001 for a grid."))
    return forms.ChoiceField(label=label, required=required, choices=[("", "—"), *_area_choices(areas)])


def _compound_field(manager: User) -> forms.Field:
    label = gettext_lazy("Compound")
    compounds = list(services.assignable_compounds(manager)[: MAX_CHOICES + 1])
    help_text = gettext_lazy("For gate guards only.")
    if len(compounds) > MAX_CHOICES:
        return forms.IntegerField(label=label, required=False, min_value=1, max_value=services.MAX_FACILITY_ID,
                                  widget=NUMBER, help_text=gettext_lazy("For gate guards only: the compound's number, as in the "
                                                         "address of its page (/compounds/123/)."))
    choices = [(str(c.pk), f"{c.community.name} › {c.name}") for c in compounds]
    return forms.TypedChoiceField(label=label, required=False, coerce=int, empty_value=None,
                                  choices=[("", "—"), *choices], help_text=help_text)


class AccountForm(forms.Form):
    """Create an account (username and initial password) or, with `account`, edit one."""

    username = forms.CharField(label=gettext_lazy("Username"), max_length=150, required=False,
                               widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
                               help_text=gettext_lazy("Letters, digits and @ . + - _ only; it cannot be changed later."))
    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=150, required=False)
    phone = forms.CharField(label=gettext_lazy("Mobile phone"), max_length=20, required=False,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}))
    role = forms.ChoiceField(label=gettext_lazy("Role"), required=False)
    password = forms.CharField(
        label=gettext_lazy("Initial password"), required=False, max_length=128, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("Leave empty to generate one; it is shown once, after saving."),
    )

    def __init__(self, *args, manager: User, account: User | None = None, **kwargs) -> None:
        self.manager, self.account = manager, account
        if account is not None:
            kwargs.setdefault("initial", {
                "full_name": account.get_full_name(), "role": account.role,
                "area": account.area.code if account.area_id else "", "compound": account.compound_id,
                "facility_id": account.facility_id,
            })
        super().__init__(*args, **kwargs)
        roles = permissions.grantable_roles(manager)
        self.fields["role"].choices = [("", "—"), *((r.value, r.label) for r in roles)]
        self.fields["role"].help_text = _role_levels(roles)
        if any(r in ROLE_AREA_LEVEL for r in roles):
            self.fields["area"] = area_field(manager, required=False, label=gettext_lazy("Area"))
        if Role.GATE_GUARD in roles:
            self.fields["compound"] = _compound_field(manager)
        if Role.FACILITY_STAFF in roles:
            facilities = facilities_in_scope(manager).order_by("area_code", "name").values_list("id", "name")
            self.fields["facility_id"] = forms.TypedChoiceField(
                label=gettext_lazy("Facility"), required=False, coerce=int, empty_value=None,
                choices=[("", "—"), *facilities], help_text=gettext_lazy("For facility staff only."))
        if account is not None:
            del self.fields["username"], self.fields["password"]
            self.fields["phone"].help_text = (
                gettext("Now %(masked)s. Leave empty to keep it.") % {"masked": mask_phone(account.phone)}
                if account.phone else gettext("None on record.")
            )
            self.fields["clear_phone"] = forms.BooleanField(label=gettext_lazy("Remove the phone number"), required=False)
        self.order_fields(["username", "full_name", "phone", "clear_phone", "role", *AREA_FIELDS, "password"])

    def to_input(self) -> services.AccountInput:
        data = self.cleaned_data
        phone = data.get("phone") or ""
        if self.account is not None:
            if data.get("clear_phone"):
                phone = ""
            elif not phone.strip():
                phone = self.account.phone  # an empty field keeps the number (it is never shown in full)
        return services.AccountInput(
            username=data.get("username") or "", full_name=data.get("full_name") or "", phone=phone,
            role=data.get("role") or "", area_code=str(data.get("area") or ""),
            compound_id=data.get("compound"), facility_id=data.get("facility_id"),
        )

    def add_field_errors(self, exc: FieldErrors) -> None:
        for field, message in exc.errors.items():
            self.add_error(field if field in self.fields else None, message)


def _role_levels(roles: tuple[Role, ...]) -> str:
    """"Grid worker: a grid; Gate guard: a compound; …" — what each role is bound to."""
    parts = []
    for role in roles:
        if role in ROLE_AREA_LEVEL:
            bound = Level(ROLE_AREA_LEVEL[role]).label
        elif role == Role.GATE_GUARD:
            bound = gettext("a compound")
        else:
            bound = gettext("a facility")
        parts.append(f"{role.label}: {bound}")
    return "; ".join(parts)


class AccountFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Username or name"), required=False, max_length=150)
    role = forms.ChoiceField(label=gettext_lazy("Role"), required=False)
    active = forms.ChoiceField(label=gettext_lazy("Status"), required=False, choices=[
        ("", gettext_lazy("All")), ("yes", gettext_lazy("Active")), ("no", gettext_lazy("Deactivated"))])

    def __init__(self, *args, manager: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", gettext_lazy("All roles")), *((r.value, r.label) for r in permissions.grantable_roles(manager))]
        self.fields["area"] = area_field(manager, required=False, label=gettext_lazy("Area"))
        self.order_fields(["q", "role", "area", "active"])

    def apply(self, accounts: QuerySet[User]) -> QuerySet[User]:
        data = self.cleaned_data
        if data.get("q"):
            q = data["q"].strip()
            accounts = accounts.filter(Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q))
        if data.get("role"):
            accounts = accounts.filter(role=data["role"])
        if data.get("area"):
            code = str(data["area"]).strip()
            accounts = accounts.filter(Q(area__code__startswith=code) | Q(compound__area_code__startswith=code))
        if data.get("active"):
            accounts = accounts.filter(is_active=data["active"] == "yes")
        return accounts
