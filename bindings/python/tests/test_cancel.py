"""Cancellation: a true return, an exception or Ctrl-C in a progress callback
stops the C call (FNN_E_CANCELLED) and the binding re-raises."""
import os
import signal
import threading
import time

import numpy as np
import pytest

import fnn
from conftest import blobs

SPEC = "input:4x4x1,dense:32,relu,dense:4"


@pytest.fixture
def pool():
    x, y = blobs(2000, seed=2)
    return fnn.Dataset.from_arrays(x, y, 4)


def sigint_at(step):
    """A progress callback that sends SIGINT to this process at its step-th
    call, as Ctrl-C would, and gives the waiting thread time to see it before
    the library's thread goes on (the binding checks for Ctrl-C at every
    callback; an attack calls back once per shadow)."""
    calls = []

    def progress(*args):
        calls.append(args)
        if len(calls) == step:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.5)
    return progress, calls


def test_train_true_return_cancels(pool):
    m = fnn.Model(SPEC, seed=1)
    with pytest.raises(fnn.CancelledError) as e:
        m.train(pool, epochs=50, progress=lambda epoch, epochs, b, bs, loss: b == 3)
    assert e.value.status == -13
    assert "cancelled by the progress callback at epoch 0 step 3" in e.value.message


class Stop(Exception):
    pass


def test_train_exception_is_reraised(pool):
    m = fnn.Model(SPEC, seed=1)
    seen = []

    def progress(epoch, epochs, batch, batches, loss):
        seen.append(batch)
        if batch == 2:
            raise Stop("from the callback")

    with pytest.raises(Stop, match="from the callback") as e:
        m.train(pool, epochs=50, progress=progress)
    assert isinstance(e.value.__cause__, fnn.CancelledError)
    assert e.value.__cause__.status == -13
    assert seen == [1, 2]  # the C call stopped at once


def test_train_keyboard_interrupt(pool):
    m = fnn.Model(SPEC, seed=1)
    progress, calls = sigint_at(3)
    with pytest.raises(KeyboardInterrupt) as e:
        m.train(pool, epochs=1000, progress=progress)
    assert e.value.__cause__.status == -13
    assert len(calls) < 1000 * 32


def test_train_keyboard_interrupt_without_callback(pool):
    # No user callback: Ctrl-C from outside still stops the C call.
    m = fnn.Model(SPEC, seed=1)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as e:
            m.train(pool, epochs=100000)
    finally:
        timer.cancel()
    assert e.value.__cause__.status == -13


def test_forget_cancel_leaves_model_unchanged(pool):
    m = fnn.Model(SPEC, seed=1)
    m.train(pool, epochs=2)
    before = m.to_bytes()
    req = fnn.ForgetRequest.from_class(pool, 0)
    for method in ("fnn", "finetune", "neggrad"):
        # fnn: on 2000 samples, a budget of the whole training lets it run
        # long enough to be stopped.
        extra = {"budget": 1} if method == "fnn" else {}
        with pytest.raises(Stop):
            m.forget(req, None, method=method, target=0, epochs=20, **extra,
                     progress=lambda phase, step, done, total, rep:
                     (_ for _ in ()).throw(Stop()) if step >= 2 else None)
        assert m.to_bytes() == before, method
    progress, calls = sigint_at(2)
    with pytest.raises(KeyboardInterrupt) as e:
        m.forget(req, None, method="finetune", epochs=50, progress=progress)
    assert e.value.__cause__.status == -13
    assert m.to_bytes() == before
    with pytest.raises(fnn.CancelledError):
        m.forget(req, None, method="retrain", progress=lambda *a: True)
    assert m.to_bytes() == before and m.history() == []


def test_progress_report_is_valid_during_the_call_only(pool):
    m = fnn.Model(SPEC, seed=1)
    m.train(pool, epochs=2)
    kept = []

    def progress(phase, step, done, total, report):
        report.phases()  # readable now
        kept.append(report)

    m.forget(fnn.ForgetRequest.from_class(pool, 0), None, method="finetune",
             progress=progress)
    with pytest.raises(ValueError, match="valid only during its callback"):
        kept[0].phases()


@pytest.mark.parametrize("threads", [1, 2])
def test_attack_cancel(threads):
    x, y = blobs(200, seed=4)
    universe = fnn.Dataset.from_arrays(x, y, 4)
    m = fnn.Model("input:4x4x1,dense:8,relu,dense:4", seed=1)
    m.train(universe.subset(range(100)), epochs=2, lr=0.01)
    a = fnn.Attack(m, universe, np.arange(0, 200, 10), shadows=6, threads=threads)
    with pytest.raises(Stop) as e:
        a.train(progress=lambda done, total: (_ for _ in ()).throw(Stop()))
    assert e.value.__cause__.status == -13
    assert a.shadows_trained == 0
    progress, calls = sigint_at(1)
    with pytest.raises(KeyboardInterrupt):
        a.train(progress=progress)
    assert a.shadows_trained == 0
