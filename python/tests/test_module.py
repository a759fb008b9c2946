"""Tests of the pure module: formatting, quoting, timers, the on/off switch, and writing whole
lines to fd 2 from many threads. Run: python -m unittest discover -s python/tests (from the
repository root; tests/integration/python_callbacks.rs runs it in .venv-test)."""

import asyncio
import contextlib
import io
import math
import os
import random
import re
import struct
import sys
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import perfmon  # noqa: E402
from perfmon import _emit  # noqa: E402

KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_./-]*$")


@contextlib.contextmanager
def fd2_captured():
    """What is written to fd 2 inside the block (read after it), perfmon forced on."""
    r, w = os.pipe()
    saved = os.dup(2)
    os.dup2(w, 2)
    os.close(w)
    out = []
    chunks = []
    reader = threading.Thread(target=lambda: _drain(r, chunks))
    reader.start()
    perfmon.enable()
    try:
        yield out
    finally:
        perfmon.reset()
        os.dup2(saved, 2)
        os.close(saved)
        reader.join()
        out.extend(b"".join(chunks).decode().splitlines())


def _drain(fd, chunks):
    while True:
        b = os.read(fd, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(fd)


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


class Numbers(unittest.TestCase):
    def test_floats_round_trip_exactly(self):
        rng = random.Random(7)
        vals = [0.1 + 0.2, 1e-320, 5e-324, 1.7976931348623157e308, -0.0, 1e22, 1e23, 123456789.123]
        vals += [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(5000)]
        for v in vals:
            s = _emit.format_number(v)
            self.assertLessEqual(len(s), 40, s)  # the parser reads at most 40 characters
            if math.isnan(v):
                self.assertEqual(s, "nan")
            else:
                self.assertEqual(bits(float(s)), bits(v), s)

    def test_special_values_are_words_the_parser_takes(self):
        self.assertEqual(_emit.format_number(float("nan")), "nan")
        self.assertEqual(_emit.format_number(float("inf")), "inf")
        self.assertEqual(_emit.format_number(float("-inf")), "-inf")

    def test_ints_bools_and_non_numbers(self):
        self.assertEqual(_emit.format_number(7), "7")
        self.assertEqual(_emit.format_number(-(2**53)), "-9007199254740992")
        self.assertEqual(float(_emit.format_number(2**80)), float(2**80))
        self.assertEqual(_emit.format_number(True), "1")
        for bad in ("1.5", b"2", None, 1j, [1.0], object()):
            self.assertIsNone(_emit.format_number(bad), bad)

    @unittest.skipUnless(__import__("importlib").util.find_spec("numpy"), "numpy not installed")
    def test_numpy_scalars(self):
        import numpy as np

        f32 = np.float32(0.1)
        self.assertEqual(float(_emit.format_number(f32)), float(f32))
        self.assertEqual(_emit.format_number(np.int64(12)), "12")
        self.assertEqual(_emit.format_number(np.float64(np.nan)), "nan")
        self.assertEqual(_emit.format_number(np.array(2.5)), "2.5")
        self.assertIsNone(_emit.format_number(np.array([1.0, 2.0])))


class Names(unittest.TestCase):
    def test_keys_fit_the_grammar(self):
        cases = {
            "valid_0's l2": "valid_0_s_l2",
            "ndcg@5": "ndcg_5",
            "train-rmse": "train-rmse",
            "val/acc.top5": "val/acc.top5",
            "1st": "k1st",
            "_x": "k_x",
            "iter": "iter_",
            "algo": "algo_",
            "direction": "direction_",
            "": "k",
            "łoss": "k_oss",
        }
        for k, want in cases.items():
            self.assertEqual(_emit.sanitize_key(k), want)
        rng = random.Random(1)
        alphabet = "ab Z9_-./'\"=\t\né@ "
        for _ in range(2000):
            k = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
            self.assertRegex(_emit.sanitize_key(k), KEY)

    def test_timer_names(self):
        self.assertEqual(_emit.format_name("load"), "load")
        self.assertEqual(_emit.format_name("Data Loading"), '"Data Loading"')
        self.assertEqual(_emit.format_name('say "hi"'), "\"say 'hi'\"")
        self.assertEqual(_emit.format_name(" pad"), '" pad"')
        self.assertEqual(_emit.format_name("a\nb"), '"a b"')
        for bad in ("", "  ", "\n"):
            with self.assertRaises(ValueError):
                _emit.format_name(bad)

    def test_algo_words(self):
        self.assertEqual(_emit.format_word("ga"), "ga")
        self.assertEqual(_emit.format_word("my ga"), '"my ga"')
        self.assertEqual(_emit.format_word('a"b'), "a'b")


class Lines(unittest.TestCase):
    def test_progress_line(self):
        lines = _emit.progress_lines(
            {"best": 1.5, "n": 3, "skip": None}, iter=4, algo="my ga", direction="maximize"
        )
        self.assertEqual(lines, ['@perfmon progress algo="my ga" iter=4 direction=max best=1.5 n=3'])

    def test_nothing_to_record_is_no_line(self):
        self.assertEqual(_emit.progress_lines({"a": None}, iter=1), [])

    def test_colliding_keys_stay_apart(self):
        (line,) = _emit.progress_lines({"a b": 1, "a_b": 2, "a@b": 3})
        self.assertTrue(line.endswith("a_b=1 a_b_2=2 a_b_3=3"), line)

    def test_long_records_split_on_the_same_iter(self):
        vals = {"metric_%03d" % i: i * 0.1 for i in range(400)}
        lines = _emit.progress_lines(vals, iter=9, algo="x")
        self.assertGreater(len(lines), 1)
        seen = {}
        for line in lines:
            self.assertLessEqual(len(line), _emit.MAX_LINE_BYTES)
            self.assertTrue(line.startswith("@perfmon progress algo=x iter=9 "), line)
            for f in line.split()[4:]:
                k, v = f.split("=")
                seen[k] = float(v)
        self.assertEqual(seen, {k: float(repr(v)) for k, v in vals.items()})

    def test_bad_iter_and_direction_raise(self):
        with self.assertRaises(ValueError):
            _emit.progress_lines({"a": 1}, iter=1.5)
        with self.assertRaises(ValueError):
            _emit.progress_lines({"a": 1}, direction="up")


class Switch(unittest.TestCase):
    def tearDown(self):
        perfmon.reset()

    def test_follows_the_environment(self):
        env = dict(os.environ)
        try:
            os.environ.pop("PERFMON", None)
            os.environ.pop("PERFMON_FORCE", None)
            self.assertFalse(perfmon.enabled())
            os.environ["PERFMON"] = "1"
            self.assertTrue(perfmon.enabled())
            os.environ["PERFMON"] = "0"
            self.assertFalse(perfmon.enabled())
            os.environ["PERFMON_FORCE"] = "1"
            self.assertTrue(perfmon.enabled())
            perfmon.disable()
            self.assertFalse(perfmon.enabled())
        finally:
            os.environ.clear()
            os.environ.update(env)

    def test_mistakes_raise_also_when_off(self):
        perfmon.disable()
        for call in (
            lambda: perfmon.progress(iter=1.5, a=1.0),
            lambda: perfmon.progress(direction="up", a=1.0),
            lambda: perfmon.mark(" "),
            lambda: perfmon.timer(""),
        ):
            with self.assertRaises(ValueError):
                call()

    def test_disabled_writes_nothing(self):
        with fd2_captured() as out:
            perfmon.disable()
            perfmon.progress(iter=1, a=1.0)
            perfmon.mark("x")
            with perfmon.timer("t"):
                pass
        self.assertEqual(out, [])


class Writing(unittest.TestCase):
    def test_timers_nest_and_close_on_exceptions(self):
        @perfmon.timer("inner step")
        def step():
            raise KeyError("boom")

        @perfmon.timer
        def bare():
            return 5

        with fd2_captured() as out:
            with self.assertRaises(KeyError):
                with perfmon.timer("outer"):
                    step()
            self.assertEqual(bare(), 5)
            self.assertEqual(asyncio.run(self._async()), 6)
        self.assertEqual(
            out,
            [
                "@perfmon timer start outer",
                '@perfmon timer start "inner step"',
                '@perfmon timer stop "inner step"',
                "@perfmon timer stop outer",
                "@perfmon timer start Writing.test_timers_nest_and_close_on_exceptions.<locals>.bare",
                "@perfmon timer stop Writing.test_timers_nest_and_close_on_exceptions.<locals>.bare",
                "@perfmon timer start coro",
                "@perfmon timer stop coro",
            ],
        )
        self.assertEqual(bare.__name__, "bare")

    async def _async(self):
        @perfmon.timer("coro")
        async def coro():
            await asyncio.sleep(0)
            return 6

        return await coro()

    def test_replaced_sys_stderr_still_reaches_fd2(self):
        fake = io.StringIO()
        with fd2_captured() as out:
            with contextlib.redirect_stderr(fake):
                perfmon.mark("to the real stderr")
        self.assertEqual(out, ["@perfmon mark to the real stderr"])
        self.assertEqual(fake.getvalue(), "")

    def test_threads_never_mix_lines(self):
        n_threads, n_lines = 8, 400
        wide = {"k%02d" % i: i + 0.125 for i in range(40)}

        def work(t):
            for i in range(n_lines):
                perfmon.progress(iter=i, algo="t%d" % t, **wide)

        with fd2_captured() as out:
            threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
        self.assertEqual(len(out), n_threads * n_lines)
        want = " ".join("%s=%r" % kv for kv in wide.items())
        per_thread = {}
        for line in out:
            m = re.fullmatch(r"@perfmon progress algo=(t\d) iter=(\d+) (.*)", line)
            self.assertIsNotNone(m, line[:100])
            self.assertEqual(m.group(3), want)
            per_thread.setdefault(m.group(1), []).append(int(m.group(2)))
        self.assertEqual(per_thread, {"t%d" % t: list(range(n_lines)) for t in range(n_threads)})


    @unittest.skipUnless(hasattr(os, "fork"), "no fork")
    def test_a_child_forked_while_the_lock_is_held_can_write(self):
        with fd2_captured() as out:
            with _emit._lock:
                pid = os.fork()
                if pid == 0:  # the child: the lock it inherited is held by no thread of its own
                    perfmon.mark("from the child")
                    os._exit(0)
            for _ in range(500):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                threading.Event().wait(0.01)
            else:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                self.fail("the child is stuck on the inherited lock")
        self.assertEqual(status, 0)
        self.assertEqual(out, ["@perfmon mark from the child"])

    def test_a_full_non_blocking_stderr_is_waited_for(self):
        r, w = os.pipe()
        os.set_blocking(w, False)
        filled = 0
        try:
            while True:
                filled += os.write(w, b"x" * 4096)
        except BlockingIOError:
            pass
        saved = os.dup(2)
        os.dup2(w, 2)
        got = []

        def drain():
            threading.Event().wait(0.2)
            while True:
                b = os.read(r, 65536)
                if not b:
                    break
                got.append(b)

        reader = threading.Thread(target=drain)
        reader.start()
        perfmon.enable()
        try:
            perfmon.progress(iter=1, value=2.5)
        finally:
            perfmon.reset()
            os.dup2(saved, 2)
            os.close(saved)
            os.close(w)
            reader.join()
            os.close(r)
        data = b"".join(got)
        self.assertEqual(data[filled:], b"@perfmon progress iter=1 value=2.5\n")

    @unittest.skipUnless(__import__("importlib").util.find_spec("tqdm"), "tqdm not installed")
    def test_lines_survive_a_tqdm_bar_on_stderr(self):
        from tqdm import tqdm

        with fd2_captured() as out:
            bar = tqdm(total=5, file=sys.stderr, mininterval=0, ascii=True)
            for i in range(5):
                bar.update(1)
                perfmon.progress(iter=i, loss=1.0 / (i + 1))
            bar.close()
        # perfmon reads what follows a line's last \r (what a terminal shows)
        read = [line.rsplit("\r", 1)[-1] for line in out]
        protocol = [line for line in read if line.startswith("@perfmon ")]
        self.assertEqual(
            protocol, ["@perfmon progress iter=%d loss=%r" % (i, 1.0 / (i + 1)) for i in range(5)]
        )

class Callbacks(unittest.TestCase):
    def test_scipy_evaluates_fun_only_when_writing(self):
        from perfmon.callbacks import ScipyCallback

        calls = []

        def f(x):
            calls.append(x)
            return sum(v * v for v in x)

        cb = ScipyCallback(fun=f, algo="tnc")
        perfmon.disable()
        cb([1.0, 2.0])
        self.assertEqual(calls, [])
        with fd2_captured() as out:
            cb([1.0, 2.0])
        self.assertEqual(calls, [[1.0, 2.0]])
        self.assertEqual(out, ["@perfmon progress algo=tnc iter=2 direction=min fun=5.0"])

if __name__ == "__main__":
    unittest.main()
