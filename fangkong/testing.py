"""A small, fixed city for tests, and the personas who work in it.

Personas (healthchecks' alice/bob/charlie, for Fangkong): a city commander sees all; the 江岸区
district commander sees 江岸区; the 青和居 community worker sees 青和居; grid worker A sees grid A
only; grid worker B, of the neighbouring grid, must see nothing of grid A; the 武昌 community
worker must see nothing of 江岸区. Facilities: five in 江岸区 (a designated hospital, a shelter hospital, an
isolation site, a recovery station, a fever clinic) and a designated hospital in 武昌区; the facility
persona works at the 江岸 designated hospital, the other_facility persona at the 江岸 shelter hospital.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from fangkong.accounts import two_factor
from fangkong.accounts.models import Role, User
from fangkong.areas.models import Area, Building, Compound, Household, Level, Unit
from fangkong.core.identity import make_id_number
from fangkong.facilities.models import BedPool, Facility
from fangkong.people.models import Resident, SpecialGroup

PASSWORD = "Fk-test-pass-2020"


def totp_code(secret: str, *, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """The code an authenticator app shows for a base32 key (RFC 6238, SHA-1), computed independently of
    django-otp. Each code passes once: a second log-in in the same 30 seconds takes the next one
    (`at=time.time() + 30`)."""
    key = base64.b32decode(secret.replace(" ", "").upper() + "=" * (-len(secret.replace(" ", "")) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


@dataclass
class SmallCity:
    areas: dict[str, Area] = field(default_factory=dict)
    compounds: dict[str, Compound] = field(default_factory=dict)
    buildings: dict[str, Building] = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)
    residents: dict[str, Resident] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    facilities: dict[str, Facility] = field(default_factory=dict)


def _area(city: SmallCity, key: str, code: str, name: str, level: str, parent: str | None) -> Area:
    area = Area.objects.create(code=code, name=name, level=level, parent=city.areas.get(parent) if parent else None)
    city.areas[key] = area
    return area


def build_small_city() -> SmallCity:
    city = SmallCity()
    _area(city, "wuhan", "4201", "武汉市", Level.CITY, None)
    _area(city, "jiangan", "420102", "江岸区", Level.DISTRICT, "wuhan")
    _area(city, "wuchang", "420106", "武昌区", Level.DISTRICT, "wuhan")
    _area(city, "dazhi", "420102001", "大智街道", Level.STREET, "jiangan")
    _area(city, "ziyang", "420106001", "紫阳街道", Level.STREET, "wuchang")
    _area(city, "qinghe", "420102001001", "青和居社区", Level.COMMUNITY, "dazhi")
    _area(city, "ziyangc", "420106001001", "紫阳社区", Level.COMMUNITY, "ziyang")
    _area(city, "grid_a", "420102001001001", "第一网格", Level.GRID, "qinghe")
    _area(city, "grid_b", "420102001001002", "第二网格", Level.GRID, "qinghe")

    for key, name, community, lon, lat in (
        ("qinghe", "青和居小区", "qinghe", "114.301234", "30.601234"),
        ("ziyang", "紫阳小区", "ziyangc", "114.311111", "30.541111"),
    ):
        compound = Compound(community=city.areas[community], name=name, longitude=lon, latitude=lat)
        compound.save()
        city.compounds[key] = compound

    def building(key: str, compound: str, name: str, grid: str | None) -> None:
        b = Building(compound=city.compounds[compound], name=name, floors=6, grid=city.areas.get(grid) if grid else None)
        b.save()
        city.buildings[key] = b

    building("a1", "qinghe", "1栋", "grid_a")
    building("b2", "qinghe", "2栋", "grid_b")
    building("z1", "ziyang", "1栋", None)

    def household(key: str, bkey: str, room: str) -> None:
        unit, _ = Unit.objects.get_or_create(building=city.buildings[bkey], name="1单元")
        h = Household(unit=unit, room=room)
        h.save()
        city.households[key] = h

    household("a101", "a1", "101")
    household("a102", "a1", "102")
    household("b201", "b2", "201")
    household("z301", "z1", "301")

    def resident(key: str, hkey: str, name: str, birth: dt.date, seq: int, phone: str, relation: str = "head", groups: int = 0) -> None:
        r = Resident(
            household=city.households[hkey], name=name, sex="M" if seq % 2 else "F", birth_date=birth,
            doc_number=make_id_number("420102", birth, seq), phone=phone, relation=relation, special_groups=groups,
        )
        r.save()
        city.residents[key] = r

    resident("zhangwei", "a101", "张伟", dt.date(1985, 3, 2), 11, "13800138000")
    resident("lina", "a101", "李娜", dt.date(1987, 6, 15), 22, "13900139000", relation="spouse")
    resident("wanglaoshi", "a102", "王建国", dt.date(1940, 1, 9), 31, "13700137000", groups=SpecialGroup.LONELY_ELDERLY | SpecialGroup.LIVING_ALONE)
    resident("wangfang", "b201", "王芳", dt.date(1990, 11, 30), 42, "13600136000")
    resident("liuyang", "z301", "刘洋", dt.date(1978, 8, 8), 51, "13500135000")

    # key, name, kind, district, lon, lat, beds by kind
    for key, name, kind, district, lon, lat, beds in (
        ("hospital", "金银潭医院", "designated_hospital", "jiangan", "114.280000", "30.650000", {"icu": 2, "ordinary": 5, "single_room": 2}),
        ("shelter", "江岸方舱医院", "shelter_hospital", "jiangan", "114.310000", "30.620000", {"ordinary": 10}),
        ("isolation", "江岸集中隔离点", "isolation_site", "jiangan", "114.300000", "30.610000", {"single_room": 5}),
        ("recovery", "江岸康复驿站", "recovery_station", "jiangan", "114.290000", "30.600000", {"ordinary": 3, "single_room": 2}),
        ("clinic", "江岸发热门诊", "fever_clinic", "jiangan", "114.302000", "30.602000", {"single_room": 3, "ordinary": 2}),
        ("wuchang_hospital", "武昌定点医院", "designated_hospital", "wuchang", "114.320000", "30.540000", {"icu": 1, "ordinary": 3, "single_room": 1}),
    ):
        facility = Facility(name=name, kind=kind, area=city.areas[district], longitude=lon, latitude=lat, address=f"{name}门口")
        facility.save()
        for bed, capacity in beds.items():
            BedPool.objects.create(facility=facility, kind=bed, capacity=capacity)
        city.facilities[key] = facility

    def user(key: str, role: str = "", area: str | None = None, **extra) -> None:
        u = User.objects.create_user(username=key, password=PASSWORD, role=role, area=city.areas.get(area) if area else None, **extra)
        city.users[key] = u

    user("root", is_superuser=True, is_staff=True)
    user("city", Role.CITY_COMMANDER, "wuhan")
    user("district", Role.DISTRICT_COMMANDER, "jiangan")
    user("street", Role.STREET_COMMANDER, "dazhi")
    user("community", Role.COMMUNITY_WORKER, "qinghe")
    user("other_community", Role.COMMUNITY_WORKER, "ziyangc")
    user("grid_a", Role.GRID_WORKER, "grid_a")
    user("grid_b", Role.GRID_WORKER, "grid_b")
    user("volunteer", Role.VOLUNTEER, "qinghe")
    user("guard", Role.GATE_GUARD, compound=city.compounds["qinghe"])
    user("facility", Role.FACILITY_STAFF, facility=city.facilities["hospital"])
    user("other_facility", Role.FACILITY_STAFF, facility=city.facilities["shelter"])
    return city


def log_in_verified(client: Client, user: User) -> Client:
    """Log `user` in on a test client with the second factor passed, as after the code page (an
    authenticator device is made if the account has none): for tests run with OTP_REQUIRED_FOR_WIDE_ROLES on."""
    device = two_factor.authenticator(user) or TOTPDevice.objects.create(user=user, name=two_factor.TOTP_NAME,
                                                                        confirmed=True)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[two_factor.PENDING] = False
    session.save()
    return client


DOWNLOAD_LINK = re.compile(r'href="(/jobs/\d+/download/)"')


def run_export(client: Any, url: str, data: dict[str, Any] | None = None) -> Any:
    """An export as a person makes it: POST its button's form, open the job page it leads to and download the
    file from there (fangkong.jobs.exports; the tests run jobs in-process). Returns the download's response,
    or the first answer that did not lead on (a refusal, a page with a message, a job page without a file)."""
    started = client.post(url, data or {})
    if started.status_code != 302 or not re.fullmatch(r"/jobs/\d+/", started["Location"]):
        return started
    page = client.get(started["Location"])
    link = DOWNLOAD_LINK.search(page.content.decode())
    return client.get(link.group(1)) if link else page
