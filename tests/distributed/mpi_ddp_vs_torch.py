"""Run under ``mpiexec -n 2 python -m pytest tests/distributed/mpi_ddp_vs_torch.py`` (by
test_mpi_runner.py): ember's DistributedDataParallel on 2 ranks trains as torch's did on 2
gloo processes (golden/ddp_torch.npz, made by tools/make_golden_ddp.py): the same loss on
each rank at every step, the same final parameters and each rank's BatchNorm statistics,
whatever the bucket size. The cases are in ddp_cases.py (their docstring says why the
SyncBatchNorm case's golden is torch's whole-batch BatchNorm)."""
import importlib.util
import pathlib

import numpy as np
import pytest

import ember
import ember.distributed as dist
from ember import nn

HERE = pathlib.Path(__file__).resolve().parent


def _sibling(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cases = _sibling("ddp_cases")
group = _sibling("mpi_two_ranks").group  # the process group of 2 ranks, for this module

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="mpi4py is not installed")

TINY_BUCKET_MB = 0.0001  # about 100 bytes: most parameters get a bucket of their own


@pytest.fixture(scope="module")
def golden():
    with np.load(HERE / "golden" / "ddp_torch.npz") as g:
        return dict(g)


@pytest.mark.parametrize("cap_mb", [25, TINY_BUCKET_MB])
@pytest.mark.parametrize("case", cases.CASES)
def test_ddp_trains_as_torchs(golden, case, cap_mb):
    r = dist.get_rank()
    ember.manual_seed(100 + r)  # rank 1 starts elsewhere: DDP must broadcast rank 0's
    model = cases.build(ember, case)
    if r == 0:
        init = cases.unflatten(golden[f"{case}/init"], cases.state(model),
                               list(model.state_dict()))
        model.load_state_dict({k: ember.tensor(v) for k, v in init.items()})
    if case == "sync_bn":
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=cap_mb)
    if cap_mb == TINY_BUCKET_MB:
        assert len(ddp._buckets) >= 4  # the reduction really is split
    x, y = golden["x"], golden["y"]
    losses = cases.train(ember, ddp, [cases.half(b, r) for b in x],
                         [cases.half(b, r) for b in y])

    got = cases.state(ddp)
    params, buffers = cases.split_state(ddp.module)
    diffs = {}
    for what, mine, want, tol in (
            ("loss", np.array(losses)[:, 0], golden[f"{case}/loss"][:, r], 1e-6),
            ("params", cases.flatten(got, params), golden[f"{case}/params"], 1e-5),
            ("buffers", cases.flatten(got, buffers), golden[f"{case}/buffers"][r], 1e-5)):
        np.testing.assert_allclose(mine, want, rtol=1e-5, atol=tol, err_msg=what)
        diffs[what] = float(np.abs(mine - want).max()) if want.size else 0.0
    print(f"{case} bucket_cap_mb={cap_mb} rank {r}: max abs diffs {diffs}")
    # torch's parameters moved away from the initial ones: a DDP that did not train fails
    init = cases.unflatten(golden[f"{case}/init"], got, list(got))
    assert np.abs(golden[f"{case}/params"] - cases.flatten(init, params)).max() > 1e-2
