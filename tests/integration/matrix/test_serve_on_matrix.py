"""`scis serve` as a community runs it for Matrix: a separate process configured only by the
environment (MATRIX_HOMESERVER, MATRIX_USER, MATRIX_PASSWORD), on the real Synapse, with its
workers in-process. Dana is in the network file with her Matrix account as a contact, so her
first message is already hers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from matrix_people import Someone, eventually

PROJECT = Path(__file__).resolve().parents[3]


def chair_network_with_dana_on(matrix_user: str, directory: Path) -> list[Path]:
    chair = yaml.safe_load((PROJECT / "examples" / "chair.yaml").read_text())
    for participant in chair["participants"]:
        if participant["id"] == "dana":
            participant["contacts"] = {"matrix": matrix_user}
    written = directory / "chair.yaml"
    written.write_text(yaml.safe_dump(chair, sort_keys=False))
    return [written]


async def test_scis_serve_answers_on_matrix_and_delivers_the_outbox_there(
    synapse, register, bot, tmp_path
):
    dana = Someone(synapse, register("dana"))
    networks = chair_network_with_dana_on(dana.user_id, tmp_path)
    environment = {
        **os.environ,
        "MATRIX_HOMESERVER": synapse.url,
        "MATRIX_USER": bot.user_id,
        "MATRIX_PASSWORD": bot.password,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'scis.db'}",
    }
    for name in ("TELEGRAM_TOKEN", "REDIS_URL", "SCIS_RECORDING_SENDER"):
        environment.pop(name, None)
    scis = Path(sys.executable).with_name("scis")
    arguments = [str(scis), "serve", *(f"--network={n}" for n in networks)]
    log = (tmp_path / "serve.log").open("w+")
    serving = subprocess.Popen(
        arguments, cwd=tmp_path, env=environment, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while "serving on matrix" not in (tmp_path / "serve.log").read_text():
            assert serving.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.1)
        room = await dana.direct_room_with(bot.user_id)

        async def joined():
            return await dana.membership(room, bot.user_id) == "join"

        await eventually(joined, timeout=20)
        await dana.say(room, "/catalog chair")

        async def said(words):
            async def check():
                bodies = [m["content"].get("body", "") for m in await dana.messages(room)]
                return [b for b in bodies if words in b]

            return check

        catalog = await eventually(await said("ways to deliver it"), timeout=20)
        assert "chair" in catalog[0]
        await dana.say(room, "/order chair 2")
        await eventually(await said("Working on it"), timeout=20)
        # Through the outbox: the worker wove the order and the Matrix sender delivered it.
        plans = await eventually(await said("ways to deliver it. The best"), timeout=30)
        assert "/choose 1" in plans[0]
    finally:
        await dana.close()
        serving.send_signal(signal.SIGTERM)
        try:
            code = serving.wait(timeout=20)
        except subprocess.TimeoutExpired:
            serving.kill()
            raise
        log.close()
    assert code == 0, (tmp_path / "serve.log").read_text()
