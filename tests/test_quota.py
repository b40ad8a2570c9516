"""YouTube's daily quota, budgeted in the database before the calls: reservations, the reset, waits that fail nothing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from ytmaker.errors import TransientError, WaitUntil
from ytmaker.quota import UPLOAD_COST, quota_day, reserve_upload, seconds_until_reset, spend_all, used_today

# 2026-12-01 07:59 UTC is 23:59 on 30 November in Los Angeles (PST, UTC-8): a minute before the reset
BEFORE_RESET = datetime(2026, 12, 1, 7, 59, tzinfo=UTC)


def test_the_day_and_its_reset_are_pacific_time():
    assert quota_day(BEFORE_RESET).isoformat() == "2026-11-30"
    assert quota_day(datetime(2026, 12, 1, 8, 1, tzinfo=UTC)).isoformat() == "2026-12-01"
    assert seconds_until_reset(BEFORE_RESET) == pytest.approx(60 + 60)  # a minute, and the margin
    summer = datetime(2026, 7, 1, 6, 30, tzinfo=UTC)  # 23:30 PDT (UTC-7)
    assert seconds_until_reset(summer) == pytest.approx(30 * 60 + 60)


def test_uploads_reserve_until_the_days_budget_is_spent_then_wait_for_the_reset(rt):
    rt.settings.youtube_daily_uploads = 3
    for _ in range(3):
        reserve_upload(rt, now=BEFORE_RESET)
    with pytest.raises(WaitUntil, match="upload budget is spent") as waited:
        reserve_upload(rt, now=BEFORE_RESET)
    assert isinstance(waited.value, TransientError) and waited.value.retry_after == pytest.approx(120)
    assert used_today(rt, now=BEFORE_RESET) == {"insert": 3, "units": 3 * UPLOAD_COST["units"]}  # the refusal took nothing
    reserve_upload(rt, now=datetime(2026, 12, 1, 8, 1, tzinfo=UTC))  # a new Pacific day, a new budget


def test_units_run_out_before_inserts_and_the_insert_is_given_back(rt):
    rt.settings.youtube_daily_units = 2 * UPLOAD_COST["units"] + 10
    reserve_upload(rt, now=BEFORE_RESET)
    reserve_upload(rt, now=BEFORE_RESET)
    with pytest.raises(WaitUntil, match="API unit budget is spent"):
        reserve_upload(rt, now=BEFORE_RESET)
    assert used_today(rt, now=BEFORE_RESET)["insert"] == 2


def test_concurrent_reservations_never_overspend(rt):
    rt.settings.youtube_daily_uploads = 5
    granted, waited = [], []

    def upload():
        try:
            reserve_upload(rt, now=BEFORE_RESET)
            granted.append(1)
        except WaitUntil:
            waited.append(1)

    threads = [threading.Thread(target=upload) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert (len(granted), len(waited)) == (5, 7)
    assert used_today(rt, now=BEFORE_RESET)["insert"] == 5


def test_youtube_saying_quota_exceeded_spends_the_day(rt):
    spend_all(rt, now=BEFORE_RESET)
    with pytest.raises(WaitUntil):
        reserve_upload(rt, now=BEFORE_RESET)
