"""API: who am I — role, scope and what the account may do."""


from django.http import HttpRequest
from ninja import Router, Schema

from fangkong.core.api_auth import acting_user

router = Router(tags=["accounts"])


class ScopeOut(Schema):
    everything: bool
    area_code: str | None
    area_name: str | None
    compound_id: int | None
    facility_id: int | None


class PermissionsOut(Schema):
    reveal: bool
    edit_residents: bool
    import_residents: bool
    browse_audit: bool
    change_policy: bool


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    role: str
    role_label: str
    is_superuser: bool
    scope: ScopeOut
    permissions: PermissionsOut


@router.get("/me", response=MeOut, summary="The authenticated account: role, scope and permissions")
def me(request: HttpRequest):
    user = acting_user(request)
    scope = user.scope
    return {
        "id": user.pk, "username": user.username, "full_name": user.get_full_name(),
        "role": user.role, "role_label": str(user.get_role_display()) if user.role else "",
        "is_superuser": user.is_superuser,
        "scope": {
            "everything": scope.everything, "area_code": scope.area_code,
            "area_name": user.area.name if scope.area_code and user.area_id else None,
            "compound_id": scope.compound_id, "facility_id": scope.facility_id,
        },
        "permissions": {
            "reveal": user.can_reveal, "edit_residents": user.can_edit_residents,
            "import_residents": user.can_import, "browse_audit": user.can_browse_audit,
            "change_policy": user.can_change_policy,
        },
    }
