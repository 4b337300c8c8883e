from html.parser import HTMLParser

import pytest

from fangkong.audit.models import Action, AuditLog
from fangkong.policy.forms import PolicyForm, routing_field
from fangkong.policy.models import PolicyVersion
from fangkong.policy.schema import NOT_YET_READ, Policy
from fangkong.policy.services import change_policy, current_policy

pytestmark = pytest.mark.django_db


def form_data(**changes) -> dict:
    """What the edit page posts when nothing is touched, with `changes` applied."""
    data = {}
    for name, value in PolicyForm(policy=Policy()).initial.items():
        if value is True:
            data[name] = "on"
        elif isinstance(value, list):  # ticked boxes of a multiple choice
            data[name] = value
        elif value not in (False, None):
            data[name] = str(value)
    data["note"] = "2022 edition"
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def test_everyone_logged_in_reads_the_policy_in_force(city, login):
    response = login(city.users["grid_a"]).get("/policy/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "37.3" in page and "06:00" in page
    assert "/policy/edit/" not in page  # only city commanders get the change button


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    response = client.get("/policy/")
    assert response.status_code == 302


def test_a_community_worker_may_not_change_the_policy(city, login):
    client = login(city.users["community"])
    assert client.get("/policy/edit/").status_code == 403
    assert client.post("/policy/edit/", form_data(observation_days="7")).status_code == 403
    assert not PolicyVersion.objects.exists()


def test_the_edit_form_shows_every_field_and_the_routing_matrix(city, login):
    response = login(city.users["city"]).get("/policy/edit/")
    assert response.status_code == 200
    page = response.content.decode()
    for name in ("fever_threshold_c", "observation_centralised", "window_0_start", routing_field("mild", "shelter_hospital")):
        assert f'name="{name}"' in page


def test_settings_no_module_reads_yet_are_not_on_the_pages(city, login):
    commander = login(city.users["city"])
    edit, detail = commander.get("/policy/edit/").content.decode(), commander.get("/policy/").content.decode()
    for name in NOT_YET_READ:
        assert f'name="{name}"' not in edit
    for label in ("Minimum age", "Must live in the city", "Low risk: no new case for"):
        assert label not in edit and label not in detail


def test_the_report_count_and_the_windows_must_agree(city, login):
    commander = login(city.users["city"])
    form = commander.post("/policy/edit/", form_data(home_reports_per_day="3")).context["form"]
    assert form.errors["home_reports_per_day"] == ["3 reports a day need 3 report windows; 2 are filled in below."]
    response = commander.post("/policy/edit/", form_data(
        home_reports_per_day="3", window_2_name="noon", window_2_start="11:00", window_2_end="13:00"))
    assert response.status_code == 302
    policy = current_policy()
    assert policy.home_reports_per_day == 3 and [w.name for w in policy.home_report_windows] == ["morning", "evening", "noon"]


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"window_1_name": "morning"}, None, "Each report window needs its own name."),
    ({"window_1_start": "21:00", "window_1_end": "17:00"}, None, "A report window ends after it starts, on the same day."),
    ({"window_1_start": "09:00"}, None, "Report windows must not overlap."),
])
def test_report_windows_that_cannot_work_are_refused(city, login, changes, field, message):
    form = login(city.users["city"]).post("/policy/edit/", form_data(**changes)).context["form"]
    assert message in (form.errors.get(field) if field else form.non_field_errors())
    assert not PolicyVersion.objects.exists()


def test_an_out_of_range_threshold_is_shown_at_its_field_and_stores_nothing(city, login):
    response = login(city.users["city"]).post("/policy/edit/", form_data(fever_threshold_c="41"))
    assert response.status_code == 200
    assert "fever_threshold_c" in response.context["form"].errors
    assert not PolicyVersion.objects.exists()
    assert not AuditLog.objects.filter(action=Action.POLICY).exists()


def test_a_threshold_outside_the_valid_readings_is_refused_at_the_threshold(city, login):
    response = login(city.users["city"]).post("/policy/edit/", form_data(fever_threshold_c="38", temperature_max_c="38"))
    assert "fever_threshold_c" in response.context["form"].errors
    assert not PolicyVersion.objects.exists()


def test_a_bad_report_window_time_is_shown_at_its_field(city, login):
    response = login(city.users["city"]).post("/policy/edit/", form_data(window_1_end="25:00"))
    assert "window_1_end" in response.context["form"].errors
    assert not PolicyVersion.objects.exists()


def test_a_category_without_any_facility_is_refused_alongside_other_errors(city, login):
    data = form_data(fever_threshold_c="41", **{routing_field("close_contact", "isolation_site"): None})
    form = login(city.users["city"]).post("/policy/edit/", data).context["form"]
    assert form.routing_errors.keys() == {"close_contact"}
    assert "fever_threshold_c" in form.errors
    assert not PolicyVersion.objects.exists()


def test_the_reason_is_required(city, login):
    response = login(city.users["city"]).post("/policy/edit/", form_data(note=""))
    assert "note" in response.context["form"].errors
    assert not PolicyVersion.objects.exists()


def test_a_valid_change_is_a_new_version_with_an_audit_entry(city, login):
    data = form_data(observation_days="7", **{routing_field("suspected", "isolation_site"): "on"})
    data.pop("observation_centralised")  # untick a checkbox
    response = login(city.users["city"]).post("/policy/edit/", data)
    assert response.status_code == 302 and response["Location"] == "/policy/"
    policy = current_policy()
    assert policy.observation_days == 7 and policy.observation_centralised is False
    # The preferred order is kept; the newly ticked kind comes last.
    assert policy.routing["suspected"] == ["isolation_single_room", "designated_hospital", "isolation_site"]
    version = PolicyVersion.objects.get()
    assert version.note == "2022 edition" and version.created_by == city.users["city"]
    entry = AuditLog.objects.get(action=Action.POLICY)
    assert entry.changes["observation_days"] == [14, 7]
    page = login(city.users["grid_a"]).get("/policy/").content.decode()
    assert "2022 edition" in page and "v1" in page


def test_which_protection_still_makes_a_close_contact_is_ticked_on_the_form(city, login):
    commander = login(city.users["city"])
    response = commander.post("/policy/edit/", form_data(close_contact_unprotected=["none", "mask"]))
    assert response.status_code == 302
    assert current_policy().close_contact_unprotected == ["none", "mask"]
    page = commander.get("/policy/").content.decode()
    assert "No protection、Mask only" in page


def test_unticking_every_protection_is_refused_at_that_field(city, login):
    response = login(city.users["city"]).post("/policy/edit/", form_data(close_contact_unprotected=None))
    assert "close_contact_unprotected" in response.context["form"].errors
    assert not PolicyVersion.objects.exists()


# --- What the browser posts: every input of the page, in page order -------------------------------

class _FormInputs(HTMLParser):
    """The successful controls of the page's form, as a browser submits them (name, value) in order."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict] = []
        self._textarea: dict | None = None
        self._inside = False  # the policy form is the page's one form without an action (the menu has others)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._inside = "action" not in a
        if not self._inside:
            return
        if tag == "input" and a.get("name") and a.get("type") != "submit":
            self.controls.append({"name": a["name"], "type": a.get("type", "text"), "value": a.get("value", ""),
                                  "checked": "checked" in a})
        elif tag == "textarea" and a.get("name"):
            self._textarea = {"name": a["name"], "type": "textarea", "value": "", "checked": False}
            self.controls.append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False
        if tag == "textarea":
            self._textarea = None


def page_controls(client) -> list[dict]:
    parser = _FormInputs()
    parser.feed(client.get("/policy/edit/").content.decode())
    return parser.controls


def submission(controls: list[dict]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for c in controls:
        if c["type"] == "checkbox" and not c["checked"]:
            continue
        data.setdefault(c["name"], []).append(c["value"] if c["type"] != "checkbox" else (c["value"] or "on"))
    return data


def test_every_input_of_the_edit_page_has_its_own_name(city, login):
    controls = page_controls(login(city.users["city"]))
    names = [c["name"] for c in controls if not (c["type"] == "checkbox" and c["value"] not in ("", "on"))]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert duplicates == []  # two inputs of one name: the browser sends both and one edit is dropped


def _edit(control: dict) -> bool:
    """Change one control as a person would: another number, the other tick, a later time."""
    value = control["value"]
    if control["type"] == "checkbox":
        control["checked"] = not control["checked"]
    elif control["type"] == "number":
        control["value"] = str(int(float(value)) + 1) if "." not in value else str(round(float(value) + 0.1, 1))
    elif control["name"].startswith("window_") and control["name"].endswith(("_start", "_end")) and value:
        control["value"] = value[:3] + "30"
    else:
        return False
    return True


def _state(control: dict) -> tuple:
    return (control["checked"],) if control["type"] == "checkbox" else (float(control["value"]),) \
        if control["type"] == "number" else (control["value"],)


def test_an_edit_of_any_input_on_the_page_is_stored_or_refused_never_dropped(city, login):
    commander = login(city.users["city"])
    controls, edited = page_controls(commander), 0
    for index in range(len(controls)):
        changed = [dict(c) for c in controls]
        control = changed[index]
        if not _edit(control):
            continue
        edited += 1
        data = submission(changed)
        data["note"] = [f"change {control['name']}"]
        response = commander.post("/policy/edit/", data)
        label = f"{control['name']}={control['value']}"
        if response.status_code == 302:  # stored: the reloaded page shows the edit (and is the next start)
            controls = page_controls(commander)
            assert controls[index]["name"] == control["name"] and _state(controls[index]) == _state(control), label
        else:  # refused, with a reason shown; the page in force is unchanged
            form = response.context["form"]
            assert form.errors or form.routing_errors or form.bed_errors, label
    assert edited > 100  # numbers, ticks and window times


def test_a_submission_that_changes_nothing_stores_no_new_version(city, login):
    commander = login(city.users["city"])
    response = commander.post("/policy/edit/", submission(page_controls(commander)) | {"note": ["no change"]}, follow=True)
    assert response.status_code == 200
    assert not PolicyVersion.objects.exists()
    assert not AuditLog.objects.filter(action=Action.POLICY).exists()
    assert "Nothing changed" in response.content.decode()


def test_the_service_stores_no_version_when_nothing_changes(city):
    assert change_policy(city.users["city"], {"observation_days": 14}, note="same") is None
    assert not PolicyVersion.objects.exists()
