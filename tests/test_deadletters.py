"""Dead letters on real Redis: listed after retries run out, requeued into a resumed project."""

from __future__ import annotations

import time

import pytest

from tests.helpers import SHORT_TEXT, Flaky
from ytmaker.deadletters import list_dead, requeue
from ytmaker.embedded import wait_for
from ytmaker.errors import InvalidInput
from ytmaker.pipelines import start_generation
from ytmaker.projects import create_project

pytestmark = pytest.mark.redis


def test_exhausted_message_is_listed_then_requeued_and_the_project_completes(redis_rt, redis_broker, redis_worker):
    rt = redis_rt
    real = rt.providers.speech
    rt.providers.speech = Flaky(real, failures=100)
    project = create_project(rt, SHORT_TEXT)
    assert wait_for(rt, start_generation(project.id), timeout_s=60).status == "failed"

    letters = []
    for _ in range(50):  # the nack lands just after the project is marked failed
        letters = list_dead(rt.redis)
        if letters:
            break
        time.sleep(0.1)
    assert [(d.actor, d.queue, d.project_id) for d in letters] == [("generate_audio", "assets", project.id)]

    rt.providers.speech = real
    assert requeue(rt, letters[0].message_id) == ["audio"]
    final = wait_for(rt, project.id, timeout_s=120)

    assert final.status == "completed", final.error
    assert list_dead(rt.redis) == []
    with pytest.raises(InvalidInput, match="no dead letter"):
        requeue(rt, letters[0].message_id)
