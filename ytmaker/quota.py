"""YouTube's daily API quota, budgeted before the calls instead of discovered by a 403.

Since 2026-06-01 ``videos.insert`` has its own bucket (100 calls a day by
default) and every other call shares 10,000 units (``thumbnails.set`` 50,
``captions.insert`` 400); all reset at midnight Pacific time
(``../shared/reference/apis-next.md``). A batch of uploads reserves what each
upload will spend in a ledger in the database (shared by every worker and
every ``ytmaker`` process); when a day's budget is spent, or YouTube answers
``quotaExceeded`` anyway (another program on the same Google project), the
upload waits for the reset (:class:`~ytmaker.errors.WaitUntil`) instead of
failing the projects that remain.

A reservation is made when an upload starts a new session (a resumed session
was paid for); a redelivery before the session was saved may reserve twice,
which errs towards waiting, never towards a refused upload.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from ytmaker.db.models import QuotaUse
from ytmaker.db.session import rowcount
from ytmaker.errors import WaitUntil
from ytmaker.runtime import Runtime

#: what one upload spends: one insert, a thumbnail, a caption track, and a few lookups
UPLOAD_COST = {"insert": 1, "units": 50 + 400 + 5}
#: after the reset, a minute's margin for clocks that differ
MARGIN_S = 60.0


def _pacific() -> ZoneInfo | None:
    try:
        return ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:  # a system without a time zone database: Pacific standard time is near enough
        return None


def quota_day(now: datetime | None = None) -> date:
    """The Pacific-time day YouTube counts ``now`` in."""
    now = now or datetime.now(UTC)
    zone = _pacific()
    return (now.astimezone(zone) if zone else now - timedelta(hours=8)).date()


def seconds_until_reset(now: datetime | None = None) -> float:
    """Seconds from ``now`` to the next midnight Pacific time, plus ``MARGIN_S``."""
    now = now or datetime.now(UTC)
    zone = _pacific()
    tomorrow = quota_day(now) + timedelta(days=1)
    if zone:
        reset = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=zone)
    else:
        reset = datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=UTC) + timedelta(hours=8)
    return max(0.0, (reset - now).total_seconds()) + MARGIN_S


def wait_for_reset(reason: str, now: datetime | None = None) -> WaitUntil:
    seconds = seconds_until_reset(now)
    return WaitUntil(f"{reason}; YouTube's quota resets at midnight Pacific time, in {seconds / 3600:.1f} h",
                     retry_after=seconds)


def reserve_upload(rt: Runtime, *, now: datetime | None = None) -> None:
    """Reserve one upload's quota for today, or raise WaitUntil (the reset) when the budget is spent."""
    day = quota_day(now).isoformat()
    limits = {"insert": rt.settings.youtube_daily_uploads, "units": rt.settings.youtube_daily_units}
    taken: list[str] = []
    for bucket, cost in UPLOAD_COST.items():
        if not _take(rt, day, bucket, cost, limits[bucket]):
            for done in taken:  # give back what this upload took from the other bucket
                _take(rt, day, done, -UPLOAD_COST[done], None)
            raise wait_for_reset(f"today's YouTube {'upload' if bucket == 'insert' else 'API unit'} budget is spent "
                                 f"({limits[bucket]} a day, YTMAKER_YOUTUBE_DAILY_{bucket.upper()})", now)
        taken.append(bucket)


def spend_all(rt: Runtime, *, now: datetime | None = None) -> None:
    """YouTube said the quota is used up: mark today's budget spent, so the other uploads wait without asking."""
    day = quota_day(now).isoformat()
    for bucket, limit in (("insert", rt.settings.youtube_daily_uploads), ("units", rt.settings.youtube_daily_units)):
        _ensure(rt, day, bucket)
        with rt.db.session() as session:
            session.execute(update(QuotaUse).where(QuotaUse.day == day, QuotaUse.bucket == bucket).values(used=limit))


def used_today(rt: Runtime, *, now: datetime | None = None) -> dict[str, int]:
    day = quota_day(now).isoformat()
    with rt.db.single() as session:
        return {row.bucket: row.used for row in session.query(QuotaUse).filter(QuotaUse.day == day)}


def _ensure(rt: Runtime, day: str, bucket: str) -> None:
    try:
        with rt.db.single() as session:
            session.add(QuotaUse(day=day, bucket=bucket, used=0))
    except IntegrityError:
        pass


def _take(rt: Runtime, day: str, bucket: str, cost: int, limit: int | None) -> bool:
    """Add ``cost`` to the day's use if it stays within ``limit``: one conditional UPDATE, atomic on both databases."""
    _ensure(rt, day, bucket)
    condition = [QuotaUse.day == day, QuotaUse.bucket == bucket]
    if limit is not None:
        condition.append(QuotaUse.used + cost <= limit)
    with rt.db.session() as session:
        return rowcount(session.execute(update(QuotaUse).where(*condition).values(used=QuotaUse.used + cost))) == 1
