"""The city's morning for locust, run by bench/load.py (not meant to be run by hand, though it can be:
`locust -f bench/load_locustfile.py` with LOAD_PLAN pointing at the plan bench/load.py writes).

Users, as a phone or a browser does it, one request per step with the think time between steps:
- GridWorker: logs in once (the users of one account share its log-in), then loops: opens a page of the day list, opens a household's visit form,
  posts it back (the form's client id, everyone present with a temperature).
- Resident: opens the household's self-report link (/r/<token>/, no log-in) and posts it; the next
  round is another household. Each comes through nginx with its own address (X-Forwarded-For).
- Commander: logs in once, then opens the coverage of the area and the case board, in turn.
- GateGuard: TODO — gate scans do not exist yet (issue 17: "gate scans"); when the gate scanner's
  endpoint lands, fill in `step` and give the class a weight in MIX_CLASSES of bench/load.py.
- Hello: logs in once, then opens /bench/hello/ (the baseline of `ratio_vs_hello_page=`).

The measured window starts when every user has started (and logged in: log-ins are slow on purpose,
password hashing) — the statistics are reset then — and lasts LOAD_SECONDS; then the run stops.

Environment: LOAD_PLAN (JSON written by bench/load.py), LOAD_RESULTS (where the client ids of the
successful posts are written at the end), LOAD_THINK ("5,15": seconds between steps; "0,0" at saturation),
LOAD_SECONDS (the measured window).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import sys
from pathlib import Path

import gevent
import gevent.event
from locust import FastHttpUser, between, constant, events, task
from locust.exception import StopUser

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_forms import CSRF, VISIT_LINK, find, readings  # noqa: E402

PLAN = json.loads(open(os.environ["LOAD_PLAN"], encoding="utf-8").read()) if os.environ.get("LOAD_PLAN") else {}
_low, _high = (float(x) for x in os.environ.get("LOAD_THINK", "0,0").split(","))
WAIT = constant(0) if _high <= 0 else between(_low, _high)


# Client ids: every post sent, and those the server confirmed (a redirect for a visit, the thank-you page
# for a self-report).
SENT: list[str] = []
CONFIRMED: list[str] = []
_tokens = itertools.cycle(PLAN.get("tokens") or [""])
_accounts = {kind: itertools.cycle(PLAN.get(kind) or [{}]) for kind in ("workers", "commanders")}


LOGIN_ATTEMPTS = 5
_sessions: dict[str, gevent.event.AsyncResult] = {}  # username → the cookies of its log-in (None: failed)
_started = {"users": 0, "window": False}


def _user_started(user: FastHttpUser) -> None:
    """Count a started user; when the last one is in, reset the statistics and time the window."""
    _started["users"] += 1
    runner = user.environment.runner
    if _started["window"] or runner is None or _started["users"] < (runner.target_user_count or 0):
        return
    _started["window"] = True
    runner.stats.reset_all()  # SENT and CONFIRMED are kept: bench/load.py counts the rows of the whole run
    if os.environ.get("LOAD_WINDOW_MARK"):
        Path(os.environ["LOAD_WINDOW_MARK"]).touch()  # bench/load.py starts its CPU meters
    seconds = float(os.environ.get("LOAD_SECONDS", "0"))
    if seconds > 0:
        gevent.spawn_later(seconds, runner.quit)


@events.quitting.add_listener
def _write_results(environment, **kwargs) -> None:  # type: ignore[no-untyped-def]
    path = os.environ.get("LOAD_RESULTS")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"sent": SENT, "confirmed": CONFIRMED}, handle)


class LoggedIn(FastHttpUser):
    """A user of an account: the first of the account's users logs in by the form (retrying, as a person
    would, when the server is too busy to answer), the others share its session — a team on one log-in; a
    morning's 200 users are not 200 log-ins (password hashing is slow on purpose)."""

    abstract = True
    wait_time = WAIT
    account_kind = "workers"

    def on_start(self) -> None:
        self.account = next(_accounts[self.account_kind])
        username = self.account["username"]
        if username not in _sessions:
            _sessions[username] = gevent.event.AsyncResult()
            _sessions[username].set(self._log_in())
        cookies = _sessions[username].get()
        _user_started(self)
        if cookies is None:
            raise StopUser
        for cookie in cookies:
            self.client.cookiejar.set_cookie(cookie)

    def _log_in(self) -> list | None:
        for _attempt in range(LOGIN_ATTEMPTS):
            page = self.client.get("/accounts/login/", name="login_form")
            response = self.client.post("/accounts/login/", name="login", allow_redirects=False, data={
                "csrfmiddlewaretoken": find(CSRF, page.text), "username": self.account["username"],
                "password": self.account["password"]})
            if response.status_code == 302:
                return list(self.client.cookiejar)
            gevent.sleep(2)
        return None


class Hello(LoggedIn):
    @task
    def hello(self) -> None:
        self.client.get("/bench/hello/", name="hello")


class GridWorker(LoggedIn):
    """Walks the day list: list → a household's form → post → list …"""

    weight = 6

    def on_start(self) -> None:
        self.state, self.page, self.household, self.form = "list", 1, "", ""
        super().on_start()

    @task
    def step(self) -> None:
        if self.state == "list" or not self.household:
            self.page = random.randint(1, self.account["pages"])
            response = self.client.get(f"/screening/?page={self.page}", name="daylist")
            households = VISIT_LINK.findall(response.text or "")
            self.household = random.choice(households) if households else ""
            self.state = "form"
        elif self.state == "form":
            response = self.client.get(f"/screening/households/{self.household}/visit/", name="visit_form")
            self.form = response.text or ""
            self.state = "post" if response.status_code == 200 else "list"
        else:
            data = readings(self.form, f"{random.gauss(36.5, 0.2):.1f}")
            client_id = data["client_id"]
            data.update(method="door", outcome="reached", next=f"/screening/?page={self.page}")
            SENT.append(client_id)
            with self.client.post(f"/screening/households/{self.household}/visit/", data=data, name="visit_post",
                                  allow_redirects=False, catch_response=True) as response:
                if response.status_code == 302:
                    CONFIRMED.append(client_id)
                    response.success()
                else:
                    response.failure(f"visit not recorded: {response.status_code}")
            self.state = "list"


class Resident(FastHttpUser):
    """One household after another reports itself by its link."""

    weight = 3
    wait_time = WAIT

    def on_start(self) -> None:
        self.form, self.token = "", ""
        self.address = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
        _user_started(self)

    @task
    def step(self) -> None:
        headers = {"X-Forwarded-For": self.address}
        if not self.form:
            self.token = next(_tokens)
            response = self.client.get(f"/r/{self.token}/", name="selfreport_form", headers=headers)
            self.form = response.text if response.status_code == 200 else ""
            return
        data = readings(self.form, f"{random.gauss(36.5, 0.2):.1f}")
        client_id = data["client_id"]
        SENT.append(client_id)
        with self.client.post(f"/r/{self.token}/", data=data, name="selfreport_post", headers=headers,
                              catch_response=True) as response:
            if response.status_code == 200 and 'id="self-report-form"' not in (response.text or ""):
                CONFIRMED.append(client_id)
                response.success()
            else:
                response.failure(f"self-report not recorded: {response.status_code}")
        self.form = ""
        self.address = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


class Commander(LoggedIn):
    """A commander's dashboards: coverage of the area, then the case board, in turn."""

    weight = 1
    account_kind = "commanders"

    def on_start(self) -> None:
        self.turn = 0
        super().on_start()

    @task
    def step(self) -> None:
        code = self.account["area"]
        self.turn += 1
        if self.turn % 2:
            self.client.get(f"/screening/areas/{code}/coverage/", name="coverage")
        else:
            self.client.get(f"/cases/areas/{code}/", name="case_board")


class GateGuard(LoggedIn):
    """TODO(issue 17, gate scans): a gate guard scanning residents' passes in and out of a compound. The
    gate scanner does not exist yet; when it does, log in as a guard account (PLAN["guards"]) and post
    scans here, then add the class to MIX_CLASSES in bench/load.py. Until then it is never started."""

    abstract = True

    @task
    def step(self) -> None:
        raise NotImplementedError("gate scans do not exist yet")
