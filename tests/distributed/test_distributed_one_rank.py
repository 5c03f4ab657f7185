"""ember.distributed and DistributedDataParallel in a plain pytest run (one MPI rank, no
launcher): the API, torch's errors, the collectives' one-rank results, and DDP's
gradients equal to the unwrapped module's. The two-rank checks are mpi_two_ranks.py,
launched by test_mpi_runner.py."""
import subprocess
import sys

import numpy as np
import pytest

import ember
import ember.distributed as dist
from ember import nn

NOT_INIT = ("Default process group has not been initialized, please make sure to call "
            "init_process_group.")
needs_mpi = pytest.mark.skipif(not dist.is_available(), reason="mpi4py is not installed")


@pytest.fixture
def group():
    dist.init_process_group("mpi")
    yield
    dist.destroy_process_group()


def test_import_without_mpi4py():
    code = ("import sys; sys.modules['mpi4py'] = None\n"
            "import ember, ember.distributed as d, importlib.util as u\n"
            "u.find_spec = lambda name, *a: None\n"
            "assert not d.is_available()\n"
            "try:\n    d.init_process_group('mpi')\nexcept RuntimeError as e:\n"
            "    print(str(e).split('.')[0])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Distributed package doesn't have MPI built in"


def test_errors_before_init_and_bad_backends():
    assert not dist.is_initialized()
    t = ember.ones(2)
    for call in (lambda: dist.all_reduce(t), dist.get_rank, dist.get_world_size,
                 dist.barrier, lambda: dist.broadcast(t, 0),
                 lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2))):
        with pytest.raises(ValueError, match=NOT_INIT):
            call()
    with pytest.raises(AssertionError, match="Process group cannot be None"):
        dist.destroy_process_group()
    with pytest.raises(AssertionError, match="Unknown backend type foo"):
        dist.init_process_group("foo")
    with pytest.raises(RuntimeError, match="Distributed package doesn't have NCCL built in"):
        dist.init_process_group("nccl")
    assert repr(dist.ReduceOp.SUM) == "<RedOpType.SUM: 0>"
    assert str(dist.ReduceOp.AVG) == "RedOpType.AVG"


@needs_mpi
def test_init_twice_and_type_errors(group):
    assert dist.is_initialized() and dist.get_backend() == "mpi"
    assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    with pytest.raises(ValueError, match="trying to initialize the default process group "
                                         "twice!"):
        dist.init_process_group("mpi")
    with pytest.raises(TypeError, match="Expected parameter `tensor` of type torch.Tensor"):
        dist.all_reduce([1.0])
    with pytest.raises(RuntimeError, match="invalid root rank: 1"):
        dist.broadcast(ember.ones(1), 1)
    with pytest.raises(ValueError, match="Argument ``gather_list`` must be specified on "
                                         "destination rank."):
        dist.gather(ember.ones(1))
    with pytest.raises(ValueError, match="Argument ``scatter_list`` must be specified on "
                                         "source rank."):
        dist.scatter(ember.ones(1))


@needs_mpi
def test_one_rank_collectives(group):
    t = ember.arange(6.0).reshape(2, 3)
    for op in (dist.ReduceOp.SUM, dist.ReduceOp.AVG, dist.ReduceOp.MAX,
               dist.ReduceOp.MIN, dist.ReduceOp.PRODUCT):
        x = t.clone()
        v = x._version
        assert dist.all_reduce(x, op=op) is None
        assert x.tolist() == t.tolist() and x._version > v
    base = t._data._np
    work = dist.all_reduce(t, async_op=True)
    assert work.wait() is True and work.is_completed()
    assert t._data._np is base  # reduced in place, no new buffer
    nc = ember.arange(6.0).reshape(2, 3).t()  # non-contiguous: copied in and back
    dist.all_reduce(nc, op=dist.ReduceOp.AVG)
    assert nc.tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    for dtype in (ember.float16, ember.bool, ember.int64, ember.int32):
        x = ember.tensor([1, 0, 1]).to(dtype)
        dist.all_reduce(x)
        assert x.dtype == dtype and x.tolist() == ember.tensor([1, 0, 1]).to(dtype).tolist()
    out = [ember.zeros(2, 3)]
    dist.all_gather(out, t)
    assert out[0].tolist() == t.tolist()
    out = [ember.zeros(2, 3)]
    dist.gather(t, out, dst=0)
    assert out[0].tolist() == t.tolist()
    s = ember.zeros(3)
    dist.scatter(s, [ember.ones(3)], src=0)
    assert s.tolist() == [1.0, 1.0, 1.0]
    dist.reduce(s, 0)
    dist.broadcast(s, 0)
    assert s.tolist() == [1.0, 1.0, 1.0]
    assert dist.barrier(async_op=True).wait()


def _model():
    ember.manual_seed(0)
    m = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.BatchNorm1d(4), nn.Linear(4, 3),
                      nn.Linear(3, 2))
    m[0].bias.requires_grad_(False)  # frozen: never in a bucket
    return m


@needs_mpi
@pytest.mark.parametrize("cap_mb", [25, 0.00002])
def test_ddp_one_rank_matches_the_plain_module(group, cap_mb):
    plain, wrapped = _model(), _model()
    ddp = nn.parallel.DistributedDataParallel(wrapped, bucket_cap_mb=cap_mb)
    assert ddp.module is wrapped
    assert list(ddp.state_dict()) == ["module." + k for k in plain.state_dict()]
    assert (len(ddp._buckets) > 1) == (cap_mb < 1)
    assert all(p.requires_grad for b in ddp._buckets for p in b.params)
    x = ember.randn(6, 5)
    for step in range(2):
        plain(x).pow(2).sum().backward()
        ddp(x).pow(2).sum().backward()
    for p, q in zip(plain.parameters(), wrapped.parameters()):
        if p.grad is None:
            assert q.grad is None
        else:
            np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-6)
    with ddp.no_sync():
        ddp(x).sum().backward()
    assert not ddp._in_flight


@needs_mpi
def test_ddp_unused_parameters(group):
    m = _model()
    ddp = nn.parallel.DistributedDataParallel(m)
    ddp(ember.randn(2, 5))[:, :1].sum().backward()  # every parameter still reached
    sub = nn.parallel.DistributedDataParallel(_model()[:2], find_unused_parameters=True)
    sub(ember.randn(2, 5)).sum().backward()
    sub(ember.randn(2, 5)).sum().backward()
    partial = nn.parallel.DistributedDataParallel(_model())
    h = partial.module[4]
    out = partial.module[3](partial.module[:3](ember.randn(2, 5)))  # skips layer 4
    partial._syncing = True
    partial._reset()
    out.sum().backward()
    assert h.weight.grad is None
    with pytest.raises(RuntimeError, match="Expected to have finished reduction in the "
                                           "prior iteration"):
        partial(ember.randn(2, 5))


@needs_mpi
def test_ddp_buckets_start_during_backward(group):
    """With small buckets, the last layers' all-reduces are in flight before backward has
    reached the first layer, and all are done when backward returns."""
    m = _model()
    ddp = nn.parallel.DistributedDataParallel(m, bucket_cap_mb=0.00002)
    in_flight = []
    m[0].weight.register_hook(lambda g: in_flight.append(len(ddp._in_flight)))
    ddp(ember.randn(3, 5)).sum().backward()
    assert in_flight and in_flight[0] >= 2
    assert ddp._in_flight == [] and all(b.pending == 0 for b in ddp._buckets)


def test_sync_batchnorm_without_a_group_is_batchnorm():
    ember.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3), nn.Sequential(nn.BatchNorm1d(3)))
    bn = m[1]
    conv = nn.SyncBatchNorm.convert_sync_batchnorm(m)
    assert conv is m and isinstance(m[1], nn.SyncBatchNorm)
    assert isinstance(m[2][0], nn.SyncBatchNorm)
    assert m[1].weight is bn.weight and m[1].running_mean is bn.running_mean
    assert repr(m[1]) == ("SyncBatchNorm(3, eps=1e-05, momentum=0.1, affine=True, "
                          "track_running_stats=True)")
    ref = nn.BatchNorm2d(3)
    x = ember.randn(4, 3, 2, 2)
    np.testing.assert_allclose(m[1](x).detach().numpy(), ref(x).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(m[1].running_var.numpy(), ref.running_var.numpy(), rtol=1e-6)
    assert m[1].num_batches_tracked.item() == 1
    with pytest.raises(ValueError, match=r"expected at least 2D input \(got 1D input\)"):
        m[1](ember.ones(3))
    with pytest.raises(ValueError, match="number of input channels should be non-zero"):
        nn.SyncBatchNorm(0)(ember.ones(2, 0))


@needs_mpi
def test_sync_batchnorm_one_rank_group_is_batchnorm(group):
    s, ref = nn.SyncBatchNorm(3), nn.BatchNorm1d(3)
    x = ember.randn(5, 3)
    np.testing.assert_allclose(s(x).detach().numpy(), ref(x).detach().numpy(), rtol=1e-6)
    assert s(x).grad_fn.name() == "NativeBatchNormBackward0"  # no sync on one rank


@needs_mpi
def test_lists_of_the_wrong_size_or_type_are_errors(group):
    for call in (lambda: dist.all_gather([ember.zeros(3)], ember.zeros(2)),
                 lambda: dist.gather(ember.zeros(2), [ember.zeros(2, dtype=ember.int64)]),
                 lambda: dist.scatter(ember.zeros(2), [ember.zeros(1, 2)])):
        with pytest.raises(RuntimeError, match="Tensors are not equal in size or data type"):
            call()


class _SpyComm:
    """Wraps the group's communicator and keeps every buffer handed to MPI."""

    def __init__(self, comm):
        self._comm, self.buffers = comm, []

    def __getattr__(self, name):
        fn = getattr(self._comm, name)

        def call(*args, **kwargs):
            for a in args:
                self.buffers.append(a[0] if isinstance(a, list) else a)
            return fn(*args, **kwargs)
        return call


@needs_mpi
@pytest.mark.parametrize("async_op", [False, True])
def test_contiguous_tensors_go_to_mpi_without_a_copy(group, async_op, monkeypatch):
    g = dist._c10d._default
    spy = _SpyComm(g.comm)
    monkeypatch.setattr(g, "comm", spy)
    t = ember.arange(12.0).reshape(3, 4)
    for call in (lambda: dist.all_reduce(t, async_op=async_op),
                 lambda: dist.broadcast(t, 0, async_op=async_op),
                 lambda: dist.reduce(t, 0, async_op=async_op),
                 lambda: dist.scatter(t, [ember.ones(3, 4)], async_op=async_op)):
        spy.buffers.clear()
        work = call()
        if async_op:
            work.wait()
        mine = t.numpy()
        assert any(isinstance(b, np.ndarray) and np.shares_memory(b, mine)
                   for b in spy.buffers)
    nc = ember.arange(12.0).reshape(3, 4).t()  # not contiguous: through a copy
    spy.buffers.clear()
    dist.all_reduce(nc, async_op=async_op)
    assert not any(isinstance(b, np.ndarray) and np.shares_memory(b, nc.numpy())
                   for b in spy.buffers)
