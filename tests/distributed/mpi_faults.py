"""A script for ``mpiexec -n 2`` (run by test_mpi_runner.py): ``raise`` makes rank 1 raise
while rank 0 waits in an all_reduce (the job must end promptly, with rank 1's message);
``mismatch`` has the ranks pass different shapes, dtypes or collectives (each must get a
RuntimeError, and the job must go on)."""
import sys

import ember
import ember.distributed as dist


def _expect_mismatch(call, *words):
    try:
        call()
    except RuntimeError as e:
        assert "Detected mismatch between collectives on ranks" in str(e), e
        for w in words:
            assert w in str(e), (w, str(e))
        return str(e)
    raise AssertionError("no RuntimeError")


def main(mode):
    dist.init_process_group("mpi")
    r = dist.get_rank()
    if mode == "raise":
        if r == 1:
            raise ValueError("rank 1 failed on purpose")
        dist.all_reduce(ember.ones(3))  # rank 0 would wait here forever
        print("rank 0 was not stopped", flush=True)
        return
    msg = _expect_mismatch(lambda: dist.all_reduce(ember.ones(3 + r)), "TensorShape=[3]",
                           "TensorShape=[4]")
    _expect_mismatch(lambda: dist.all_reduce(ember.ones(3, dtype=[ember.float32,
                                                                  ember.float64][r])),
                     "TensorDtypes=float32", "TensorDtypes=float64")
    _expect_mismatch(lambda: dist.broadcast(ember.ones(2, 2 + r), 0), "[2, 2]", "[2, 3]")
    _expect_mismatch(lambda: dist.all_gather([ember.ones(1 + r)] * 2, ember.ones(1 + r)))
    _expect_mismatch(lambda: dist.barrier() if r else dist.all_reduce(ember.ones(1)),
                     "OpType=BARRIER", "OpType=ALLREDUCE")
    _expect_mismatch(lambda: dist.all_reduce(ember.ones(1), op=[dist.ReduceOp.SUM,
                                                                dist.ReduceOp.MAX][r]))
    t = ember.full((2,), float(r))
    dist.all_reduce(t)  # after the errors, collectives still work
    assert t.tolist() == [1.0, 1.0]
    from ember import nn
    try:
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2 + r))
    except RuntimeError as e:
        assert "DDP expects same model across all ranks" in str(e), e
    else:
        raise AssertionError("DDP accepted different models")
    dist.destroy_process_group()
    print(f"rank {r} ok: {msg}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
