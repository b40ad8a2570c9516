"""The seed's Celery design with no-op tasks: a chain with a group in the middle (a chord), Redis broker and results.

Configured as ``Task-010-celery-background-jobs.md`` asks: JSON, UTC, tracked
start, prefetch 1, a child recycled after 50 tasks, a queue per stage group.
Signatures are immutable (``.si``), fixing the seed's extra-argument defect.
The last task stamps the project's completion time in the hash ``bench:done``.

    celery -A bench.orchestration.celery_app worker --pool prefork --concurrency 2 -Q scripts,assets,render,upload
"""

import os
import time

from celery import Celery, chain, group

#: the seed's settings, shared with celery_stages_app (which routes its tasks by their own names)
SEED_SETTINGS = dict(
    task_serializer="json", accept_content=["json"], result_serializer="json", timezone="UTC", enable_utc=True,
    task_track_started=True, task_time_limit=30 * 60, task_soft_time_limit=25 * 60,
    worker_prefetch_multiplier=1, worker_max_tasks_per_child=50,
    broker_connection_retry_on_startup=True,
)

app = Celery("ytmaker_bench", broker=os.environ.get("BENCH_CELERY_URL", "redis://127.0.0.1:6379/1"),
             backend=os.environ.get("BENCH_CELERY_URL", "redis://127.0.0.1:6379/1"))
app.conf.update(
    SEED_SETTINGS,
    task_routes={
        "bench.script.*": {"queue": "scripts"},
        "bench.assets.*": {"queue": "assets"},
        "bench.render.*": {"queue": "render"},
        "bench.upload.*": {"queue": "upload"},
    },
)


@app.task(name="bench.script.generate_script", bind=True, max_retries=3)
def generate_script(self, project_id):
    return project_id


@app.task(name="bench.assets.generate_images", bind=True, max_retries=3)
def generate_images(self, project_id):
    return []


@app.task(name="bench.assets.generate_audio", bind=True, max_retries=3)
def generate_audio(self, project_id):
    return []


@app.task(name="bench.assets.generate_avatars", bind=True, max_retries=3)
def generate_avatars(self, project_id):
    return []


@app.task(name="bench.render.render_video", bind=True, max_retries=2)
def render_video(self, project_id):
    return f"/projects/{project_id}/output.mp4"


@app.task(name="bench.render.generate_thumbnail", bind=True, max_retries=2)
def generate_thumbnail(self, project_id):
    return f"/projects/{project_id}/thumbnail.jpg"


@app.task(name="bench.upload.upload_to_youtube", bind=True, max_retries=3)
def upload_to_youtube(self, project_id):
    app.backend.client.hset("bench:done", project_id, repr(time.time()))
    return project_id


def start_generation(project_id: str) -> str:
    workflow = chain(
        generate_script.si(project_id),
        group(generate_images.si(project_id), generate_audio.si(project_id), generate_avatars.si(project_id)),
        render_video.si(project_id),
        generate_thumbnail.si(project_id),
        upload_to_youtube.si(project_id),
    )
    return workflow.apply_async().id
