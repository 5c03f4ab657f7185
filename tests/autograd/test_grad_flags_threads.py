"""The compiled core reads the grad-mode flags through a per-thread cache
(``ember/_core/grad_flags.pyx``): every thread must still see its own flags, a new thread its
fresh defaults even after another thread died with grad switched off, and the leaf sink that
``record`` makes without ``__init__`` must be a complete ``AccumulateGrad``."""
import threading

import ember as torch
from ember._core import PURE_PYTHON_CORE, grad_flags
from ember._core.node import AccumulateGrad, Node


def _in_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


def _builds_graph():
    x = torch.ones(2, requires_grad=True)
    return (x * 2).grad_fn is not None


def test_each_thread_sees_its_own_flags_and_new_threads_their_defaults():
    def leave_grad_off():
        torch.set_grad_enabled(False)  # never restored: the thread dies with grad off
        return _builds_graph(), grad_flags._flags_for_test()

    assert _in_thread(leave_grad_off) == (False, (False, False))
    assert _builds_graph() and grad_flags._flags_for_test() == (True, False)
    for _ in range(3):  # fresh threads (their ids may reuse the dead one's OS id)
        assert _in_thread(lambda: (_builds_graph(), grad_flags._flags_for_test())) == (
            True, (True, False))
    with torch.no_grad():
        assert not _builds_graph()
        assert _in_thread(_builds_graph)  # the worker is not under this thread's no_grad
        assert not _builds_graph()
    assert _builds_graph()


def test_inference_flag_is_copied_per_thread():
    def make():
        with torch.inference_mode():
            inside = torch.ones(2) + 1
        return inside.is_inference(), (torch.ones(2) + 1).is_inference()

    with torch.inference_mode():
        assert _in_thread(make) == (True, False)
        assert (torch.ones(2) * 3).is_inference()
    assert not (torch.ones(2) * 3).is_inference()


def test_leaf_sink_is_a_complete_accumulate_grad():
    a = torch.ones(3, requires_grad=True)
    y = a * 2
    z = a + 1
    sink = y.grad_fn.next_functions[0][0]
    assert type(sink) is AccumulateGrad and isinstance(sink, Node)
    assert sink.variable is a and sink.name() == "AccumulateGrad"
    assert z.grad_fn.next_functions[0][0] is sink  # one sink per leaf while it lives
    assert sink.next_functions == () and sink._input_meta == (((3,), a._data._np.dtype),)
    seen = []
    sink.register_prehook(lambda grads: seen.append(grads[0].tolist()))
    (y.sum() + z.sum()).backward()
    assert seen == [[3.0, 3.0, 3.0]] and a.grad.tolist() == [3.0, 3.0, 3.0]
    assert PURE_PYTHON_CORE or AccumulateGrad(a).variable is a
