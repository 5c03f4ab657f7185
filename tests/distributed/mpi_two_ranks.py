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


def _net(sync_bn):
    ember.manual_seed(7 + dist.get_rank())  # DDP broadcasts rank 0's
    layers = [nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 3),
              nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 5)]
    if not sync_bn:
        layers = [m for m in layers if not isinstance(m, nn.BatchNorm2d)]
    m = nn.Sequential(*layers)
    return nn.SyncBatchNorm.convert_sync_batchnorm(m) if sync_bn else m


@pytest.mark.parametrize("sync_bn", [False, True])
def test_two_half_batches_train_as_one_whole_batch(sync_bn):
    """Acceptance of issue 17: DDP on 2 ranks x half the batch ends with the parameters
    (and, with SyncBatchNorm, the running statistics) of 1 process on the whole batch,
    after several SGD-momentum steps: DDP averages gradients, as torch's DDP does."""
    r = dist.get_rank()
    ddp = nn.parallel.DistributedDataParallel(_net(sync_bn))
    whole = _net(False)
    if sync_bn:  # the reference is plain BatchNorm on the whole batch, one process
        whole = _net(True)
        whole = nn.Sequential(*[nn.BatchNorm2d(4) if isinstance(m, nn.SyncBatchNorm) else m
                                for m in whole])
    whole.load_state_dict(ddp.module.state_dict())
    ember.manual_seed(3)
    xs = [ember.randn(8, 3, 8, 8) for _ in range(4)]
    ys = [ember.randint(0, 5, (8,)) for _ in range(4)]
    opts = [ember.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) for m in (ddp, whole)]
    loss_fn = nn.CrossEntropyLoss()
    for x, y in zip(xs, ys):
        for model, opt, xb, yb in ((ddp, opts[0], x[4 * r:4 * r + 4], y[4 * r:4 * r + 4]),
                                   (whole, opts[1], x, y)):
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    want = whole.state_dict()
    got = ddp.module.state_dict()
    assert list(want) == list(got)
    for k in want:
        np.testing.assert_allclose(got[k].numpy(), want[k].numpy(), rtol=1e-4, atol=1e-5,
                                   err_msg=k)
    if sync_bn:
        assert got["1.num_batches_tracked"].item() == 4
        ddp.eval()  # eval: running statistics, no communication, same outputs
        np.testing.assert_allclose(ddp(xs[0]).detach().numpy(),
                                   whole.eval()(xs[0]).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_sync_batchnorm_input_gradient_is_the_whole_batch_one():
    r = dist.get_rank()
    ember.manual_seed(5)
    x = ember.randn(6, 3, 2) * 3 + 1
    dy = ember.randn(6, 3, 2)
    sbn, bn = nn.SyncBatchNorm(3, momentum=None), nn.BatchNorm1d(3, momentum=None)
    with ember.no_grad():
        for m in (sbn, bn):
            m.weight.copy_(ember.tensor([0.5, 2.0, -1.0]))
            m.bias.copy_(ember.tensor([0.1, 0.0, 3.0]))
    mine = x[3 * r:3 * r + 3].clone().requires_grad_()
    out = sbn(mine)
    assert type(out.grad_fn).__name__ == "SyncBatchNormBackward"
    (out * dy[3 * r:3 * r + 3]).sum().backward()
    full = x.clone().requires_grad_()
    ref = bn(full)
    (ref * dy).sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy()[3 * r:3 * r + 3],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mine.grad.numpy(), full.grad.numpy()[3 * r:3 * r + 3],
                               rtol=1e-4, atol=1e-5)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(sbn, name).numpy(), getattr(bn, name).numpy(),
                                   rtol=1e-5)
    # the weight and bias gradients are this rank's share (DDP averages them)
    total = sbn.weight.grad.clone()
    dist.all_reduce(total)
    np.testing.assert_allclose(total.numpy(), bn.weight.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_object_collectives():
    r = dist.get_rank()
    objs = [{"rank": r}, "x"] if r == 1 else [None, None]
    dist.broadcast_object_list(objs, src=1)
    assert objs == [{"rank": 1}, "x"]
    out = [None, None]
    dist.all_gather_object(out, ("r", r))
    assert out == [("r", 0), ("r", 1)]


def test_every_collective_with_async_op():
    """async_op=True returns a handle; the result is there after wait() (MPI's
    nonblocking calls), for each collective."""
    r = dist.get_rank()
    b = ember.full((2,), float(r))
    works = [dist.broadcast(b, 1, async_op=True)]
    out = [ember.zeros(2), ember.zeros(2)]
    works.append(dist.all_gather(out, ember.full((2,), r + 5.0), async_op=True))
    red = ember.full((1,), r + 1.0)
    works.append(dist.reduce(red, dst=0, async_op=True))
    g = [ember.zeros(1), ember.zeros(1)] if r == 1 else None
    works.append(dist.gather(ember.full((1,), r * 2.0), g, dst=1, async_op=True))
    s = ember.zeros(3)
    works.append(dist.scatter(s, [ember.zeros(3), ember.ones(3)] if r == 0 else None, src=0,
                              async_op=True))
    works.append(dist.barrier(async_op=True))
    assert all(isinstance(w, dist.Work) for w in works)
    for w in works:
        assert w.wait() and w.is_completed()
    assert b.tolist() == [1.0, 1.0]
    assert [o.tolist() for o in out] == [[5.0, 5.0], [6.0, 6.0]]
    assert red.item() == (3.0 if r == 0 else 2.0)
    if r == 1:
        assert [x.item() for x in g] == [0.0, 2.0]
    assert s.tolist() == [float(r)] * 3
