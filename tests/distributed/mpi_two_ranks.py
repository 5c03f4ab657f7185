"""Run under ``mpiexec -n 2 python -m pytest tests/distributed/mpi_two_ranks.py`` (by
test_mpi_runner.py): each rank checks the collectives' results and that DDP's gradients
are the average of the two ranks' single-process gradients."""
import numpy as np
import pytest

import ember
import ember.distributed as dist
from ember import nn

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="mpi4py is not installed")


@pytest.fixture(scope="module", autouse=True)
def group():
    dist.init_process_group("mpi")
    if dist.get_world_size() != 2:
        dist.destroy_process_group()
        pytest.skip("needs exactly 2 ranks (mpiexec -n 2)")
    yield
    dist.destroy_process_group()


def test_collectives():
    r = dist.get_rank()
    t = ember.full((3,), float(r + 1))
    dist.all_reduce(t)
    assert t.tolist() == [3.0, 3.0, 3.0]
    nc = (ember.arange(6.0).reshape(2, 3) * (r + 1)).t()
    work = dist.all_reduce(nc, op=dist.ReduceOp.AVG, async_op=True)
    work.wait()
    assert nc.tolist() == [[0.0, 4.5], [1.5, 6.0], [3.0, 7.5]]
    m = ember.tensor([r, 5 - r])
    dist.all_reduce(m, op=dist.ReduceOp.MAX)
    assert m.tolist() == [1, 5]
    b = ember.full((2,), float(r))
    dist.broadcast(b, 1)
    assert b.tolist() == [1.0, 1.0]
    out = [ember.zeros(2), ember.zeros(2)]
    dist.all_gather(out, ember.full((2,), float(r)))
    assert [o.tolist() for o in out] == [[0.0, 0.0], [1.0, 1.0]]
    g = [ember.zeros(1), ember.zeros(1)] if r == 0 else None
    dist.gather(ember.full((1,), r + 10.0), g, dst=0)
    if r == 0:
        assert [x.item() for x in g] == [10.0, 11.0]
    s = ember.zeros(2)
    dist.scatter(s, [ember.zeros(2), ember.ones(2)] if r == 1 else None, src=1)
    assert s.tolist() == [float(r)] * 2
    red = ember.full((1,), r + 1.0)
    dist.reduce(red, dst=1)
    assert red.item() == (3.0 if r == 1 else 1.0)
    dist.barrier()


def _model():
    ember.manual_seed(1 + dist.get_rank())  # different on each rank: DDP must broadcast
    return nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 4), nn.Linear(4, 1))


def _batches():
    ember.manual_seed(100)
    return [ember.randn(4, 6) for _ in range(2)]  # rank r trains on batch r


def _local_grads(state, batch):
    m = _model()
    m.load_state_dict(state)
    m(batch).pow(2).sum().backward()
    return [p.grad.numpy() for p in m.parameters()]


@pytest.mark.parametrize("cap_mb", [25, 0.00005])
def test_ddp_grads_are_the_average(cap_mb):
    r = dist.get_rank()
    ddp = nn.parallel.DistributedDataParallel(_model(), bucket_cap_mb=cap_mb)
    state = {k: v.clone() for k, v in ddp.module.state_dict().items()}
    mine = state["0.weight"].clone()
    dist.broadcast(mine, 0)
    assert mine.tolist() == state["0.weight"].tolist()  # rank 0's weights everywhere
    batches = _batches()
    ddp(batches[r]).pow(2).sum().backward()
    want = [(a + b) / 2 for a, b in zip(*(_local_grads(state, x) for x in batches))]
    for p, w in zip(ddp.module.parameters(), want):
        np.testing.assert_allclose(p.grad.numpy(), w, rtol=1e-5, atol=1e-6)


def test_no_sync_accumulates_locally_then_averages_the_sums():
    r = dist.get_rank()
    ddp = nn.parallel.DistributedDataParallel(_model())
    state = {k: v.clone() for k, v in ddp.module.state_dict().items()}
    batches = _batches()
    with ddp.no_sync():
        ddp(batches[r]).pow(2).sum().backward()
    local = _local_grads(state, batches[r])
    for p, w in zip(ddp.module.parameters(), local):
        np.testing.assert_allclose(p.grad.numpy(), w, rtol=1e-6)
    ddp(batches[r]).pow(2).sum().backward()  # reduces the two-pass sums
    g = [_local_grads(state, x) for x in batches]
    for i, p in enumerate(ddp.module.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), g[0][i] + g[1][i], rtol=1e-5, atol=1e-6)
