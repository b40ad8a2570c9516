"""The floor: a bare Dramatiq 7-actor no-op pipeline with a Redis-set fan-in.

script sends the three asset actors; each adds its name to a Redis set and the
one that sees all three (and wins a set-if-absent guard) sends render; then
thumbnail, upload, which stamps the completion time in ``bench:done``.

    dramatiq bench.orchestration.dramatiq_app --processes 2 --threads 4
"""

import os
import time

import dramatiq
from dramatiq.brokers.redis import RedisBroker

broker = RedisBroker(url=os.environ.get("BENCH_DRAMATIQ_URL", "redis://127.0.0.1:6379/2"))
dramatiq.set_broker(broker)
redis = broker.client
ASSETS = ("images", "audio", "avatars")


@dramatiq.actor(queue_name="scripts")
def generate_script(project_id):
    for actor in (generate_images, generate_audio, generate_avatars):
        actor.send(project_id)


def _asset_done(project_id, name):
    key = f"bench:fanin:{project_id}"
    pipe = redis.pipeline()
    pipe.sadd(key, name)
    pipe.expire(key, 3600)
    pipe.scard(key)
    if pipe.execute()[-1] == len(ASSETS) and redis.set(f"bench:render:{project_id}", 1, nx=True, ex=3600):
        render_video.send(project_id)


@dramatiq.actor(queue_name="assets")
def generate_images(project_id):
    _asset_done(project_id, "images")


@dramatiq.actor(queue_name="assets")
def generate_audio(project_id):
    _asset_done(project_id, "audio")


@dramatiq.actor(queue_name="assets")
def generate_avatars(project_id):
    _asset_done(project_id, "avatars")


@dramatiq.actor(queue_name="render")
def render_video(project_id):
    generate_thumbnail.send(project_id)


@dramatiq.actor(queue_name="render")
def generate_thumbnail(project_id):
    upload_to_youtube.send(project_id)


@dramatiq.actor(queue_name="upload")
def upload_to_youtube(project_id):
    redis.hset("bench:done", project_id, repr(time.time()))


def start_generation(project_id: str) -> str:
    generate_script.send(project_id)
    return project_id
