"""The control plane's loops stop when cancelled, even when woken at that very moment.

On Python 3.11, `asyncio.wait_for(event.wait(), t)` swallows a cancellation that
arrives together with the event: the loop goes round again and whoever awaits the
cancelled task (the app's shutdown) waits forever. A kick of a host's runner or
a stack write during shutdown is exactly that.
"""

import asyncio

from controlplane.server.services import stackdeploy
from controlplane.server.services.runtime import Runtime
from tests.unit.cp_app import control_plane


async def _ended(task: asyncio.Task[None]) -> bool:
    done, _ = await asyncio.wait({task}, timeout=5)
    return task in done


def test_a_runner_kicked_as_it_is_stopped_stops(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, _ = cp.add_host()
        rt: Runtime = cp.client.app.state.weft  # type: ignore[attr-defined]

        async def kick_and_stop() -> bool:
            runner = rt.reconcilers.ensure(hid)
            assert await runner.next_pass(5.0)
            await asyncio.sleep(0.05)  # the runner now waits for its next kick
            task = rt.reconcilers.tasks[hid]
            runner.kick()
            task.cancel()
            return await _ended(task) and task.cancelled()

        assert cp.client.portal.call(kick_and_stop)  # type: ignore[union-attr]


def test_the_stack_deployer_woken_as_it_is_cancelled_stops(tmp_path):
    with control_plane(tmp_path) as cp:
        rt: Runtime = cp.client.app.state.weft  # type: ignore[attr-defined]

        async def wake_and_cancel() -> bool:
            task = asyncio.create_task(stackdeploy.run_forever(rt))
            await asyncio.sleep(0.05)  # its first pass is done: it waits to be woken
            rt.stack_wake.set()
            task.cancel()
            return await _ended(task) and task.cancelled()

        assert cp.client.portal.call(wake_and_cancel)  # type: ignore[union-attr]
