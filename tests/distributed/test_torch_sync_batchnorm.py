"""SyncBatchNorm against torch's where torch runs it on the CPU (no process group: plain
batch norm): convert_sync_batchnorm's result, reprs, outputs, running statistics and
errors. The synchronised path is checked against whole-batch BatchNorm on two ranks
(mpi_two_ranks.py), since torch's refuses CPU tensors there."""
import numpy as np
import pytest

import ember
from ember import nn

torch = pytest.importorskip("torch")


def _pair():
    tm = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 1), torch.nn.BatchNorm2d(3, momentum=None),
                             torch.nn.Sequential(torch.nn.BatchNorm1d(4, affine=False)))
    em = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3, momentum=None),
                       nn.Sequential(nn.BatchNorm1d(4, affine=False)))
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    return (torch.nn.SyncBatchNorm.convert_sync_batchnorm(tm),
            nn.SyncBatchNorm.convert_sync_batchnorm(em))


def test_converted_models_match_torch():
    tm, em = _pair()
    # torch 2.13 prints bias=True too; Ember leaves it out (README: differs on purpose)
    assert repr(em) == repr(tm).replace("bias=True, ", "")
    assert list(em.state_dict()) == list(tm.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 3, 2, 2)).astype(np.float32)
    for _ in range(2):  # momentum=None: the cumulative average over batches
        want = tm[1](torch.from_numpy(x))
        got = em[1](ember.tensor(x))
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    for k, v in tm[1].state_dict().items():
        np.testing.assert_allclose(em[1].state_dict()[k].numpy(), v.numpy(), rtol=1e-5)
    em.eval(), tm.eval()
    np.testing.assert_allclose(em[1](ember.tensor(x)).detach().numpy(),
                               tm[1](torch.from_numpy(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


def test_errors_match_torch():
    for ours, theirs in ((nn.SyncBatchNorm(3), torch.nn.SyncBatchNorm(3)),
                         (nn.SyncBatchNorm(0), torch.nn.SyncBatchNorm(0))):
        shape = (3,) if ours.num_features else (2, 0)
        with pytest.raises(ValueError) as want:
            theirs(torch.ones(shape))
        with pytest.raises(ValueError, match=str(want.value).replace("(", r"\(")
                           .replace(")", r"\)")):
            ours(ember.ones(shape))
