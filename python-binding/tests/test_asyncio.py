"""procwait.async_wait: asyncio integration through a wait set's fd."""
import asyncio
import os
import signal
import time
import unittest

import procwait

from tests._util import blocking_child, fork_child


def _sleep_then_exit(delay, code):
    def body():
        time.sleep(delay)
        return code
    return body


class AsyncWaitTest(unittest.TestCase):

    def test_exit_5(self):
        pid = fork_child(self, _sleep_then_exit(0.1, 5))
        st = asyncio.run(procwait.async_wait(pid))
        self.assertIsInstance(st, procwait.Status)
        self.assertEqual(st.pid, pid)
        self.assertEqual(st.returncode, 5)
        self.assertEqual(st.exitcode, 5)

    def test_process_object(self):
        pid = fork_child(self, _sleep_then_exit(0.05, 6))
        p = procwait.Process(pid)
        self.addCleanup(p.close)
        st = asyncio.run(procwait.async_wait(p, timeout=30))
        self.assertEqual(st.returncode, 6)

    def test_already_exited(self):
        pid = fork_child(self, lambda: 12)
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # now a zombie
        st = asyncio.run(procwait.async_wait(pid, timeout=30))
        self.assertEqual(st.returncode, 12)

    def test_signalled(self):
        pid, _release = blocking_child(self)

        async def main():
            task = asyncio.ensure_future(procwait.async_wait(pid, timeout=30))
            await asyncio.sleep(0.05)
            self.assertFalse(task.done())
            os.kill(pid, signal.SIGTERM)
            return await task

        st = asyncio.run(main())
        self.assertEqual((st.returncode, st.signal), (-15, 15))

    def test_gather(self):
        specs = [(0.25, 1), (0.05, 2), (0.15, 3), (0.0, 4), (0.3, 5), (0.1, 6)]
        pids = [fork_child(self, _sleep_then_exit(d, c)) for d, c in specs]

        async def main():
            return await asyncio.gather(*(procwait.async_wait(pid, timeout=30)
                                          for pid in pids))

        results = asyncio.run(main())
        self.assertEqual([st.returncode for st in results], [c for _, c in specs])
        self.assertEqual([st.pid for st in results], pids)

    def test_does_not_block_the_loop(self):
        pid = fork_child(self, _sleep_then_exit(0.5, 0))
        ticks = []

        async def ticker(stop):
            while not stop.is_set():
                ticks.append(time.monotonic())
                await asyncio.sleep(0.02)

        async def main():
            stop = asyncio.Event()
            t = asyncio.ensure_future(ticker(stop))
            st = await procwait.async_wait(pid, timeout=30)
            stop.set()
            await t
            return st

        st = asyncio.run(main())
        self.assertEqual(st.returncode, 0)
        # the loop ran other tasks while the wait was pending
        self.assertGreaterEqual(len(ticks), 5)

    def test_timeout(self):
        pid, release = blocking_child(self, code=8)
        t0 = time.monotonic()
        with self.assertRaises((asyncio.TimeoutError, procwait.TimeoutExpired)):
            asyncio.run(procwait.async_wait(pid, timeout=0.2))
        elapsed = time.monotonic() - t0
        self.assertGreaterEqual(elapsed, 0.2 - 1e-3)
        self.assertLess(elapsed, 5.0)
        # still waitable afterwards
        self.assertEqual(os.waitpid(pid, os.WNOHANG), (0, 0))
        release()
        self.assertEqual(asyncio.run(procwait.async_wait(pid, timeout=30)).returncode, 8)

    def test_cancel_leaves_child_waitable(self):
        pid, release = blocking_child(self, code=9)

        async def main():
            task = asyncio.ensure_future(procwait.async_wait(pid))
            await asyncio.sleep(0.05)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                return "cancelled"
            return "not cancelled"

        self.assertEqual(asyncio.run(main()), "cancelled")
        release()
        self.assertEqual(procwait.wait(pid, timeout=30).returncode, 9)


if __name__ == "__main__":
    unittest.main()
