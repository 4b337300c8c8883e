"""The policy's rule of who is a close contact, and the dates a tracing record may carry."""

from __future__ import annotations

import datetime as dt

from fangkong.policy.schema import Policy

# Dates before this are typing errors (and would overflow the look-back arithmetic at date.min).
EARLIEST = dt.date(2000, 1, 1)


def is_close(policy: Policy, protection: str, last_exposure_on: dt.date, reference_on: dt.date | None) -> bool:
    """A close contact (密切接触者): unprotected contact (protection "none", or one the policy lists as
    not protecting) whose last exposure is on or after the case's onset — or sampling date, without
    an onset — minus the policy's look-back (2 days in 2020). With neither date known yet, every
    unprotected contact counts: better isolated today than found late."""
    if protection not in policy.close_contact_unprotected:
        return False
    if reference_on is None:
        return True
    return last_exposure_on >= reference_on - dt.timedelta(days=policy.close_contact_lookback_days)
