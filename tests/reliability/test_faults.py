"""Faults: racing downloads, saves that die half-way.

Two *processes* download the same weights from a real HTTP server on 127.0.0.1; the server
holds both responses until both requests have arrived, so the downloads truly overlap. A save
is interrupted in-process (the writer raises half-way) and out of process (SIGKILL while the
archive is being written); the previous file must survive intact either way.
"""
import collections
import hashlib
import http.server
import io
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import ember
from ember.serialization import zip_writer

pytest.importorskip("ember_vision")

CHUNK = 16 * 1024


def weights_bytes():
    state = collections.OrderedDict(
        weight=ember.from_numpy(np.arange(40000, dtype=np.float32).reshape(200, 200)),
        bias=ember.from_numpy(np.linspace(-1, 1, 200).astype(np.float32)))
    buf = io.BytesIO()
    ember.save(state, buf)
    return buf.getvalue()


class RacingServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, payload, clients):
        super().__init__(("127.0.0.1", 0), RacingHandler)
        self.payload = payload
        self.barrier = threading.Barrier(clients, timeout=30)
        self.requests = 0
        self.lock = threading.Lock()


class RacingHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        with self.server.lock:
            self.server.requests += 1
        try:
            self.server.barrier.wait()  # every client is now mid-download
        except threading.BrokenBarrierError:
            pass
        data = self.server.payload
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        for start in range(0, len(data), CHUNK):  # trickle, so the writes interleave
            self.wfile.write(data[start:start + CHUNK])
            self.wfile.flush()
            time.sleep(0.005)


DOWNLOADER = textwrap.dedent("""
    import sys
    from ember_vision import hub
    state = hub.load_state_dict_from_url(sys.argv[1], model_dir=sys.argv[2], progress=False,
                                         check_hash=True)
    print(float(state["weight"].sum()), float(state["bias"].sum()))
""")


def test_two_processes_downloading_one_file_leave_one_good_file(tmp_path):
    payload = weights_bytes()
    digest = hashlib.sha256(payload).hexdigest()
    name = f"weights-{digest[:8]}.pth"
    server = RacingServer(payload, clients=2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/models/{name}"
        cache = tmp_path / "cache"
        procs = [subprocess.Popen([sys.executable, "-c", DOWNLOADER, url, str(cache)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        results = [p.communicate(timeout=120) for p in procs]
    finally:
        server.shutdown()
        server.server_close()
    for proc, (_, err) in zip(procs, results):
        assert proc.returncode == 0, err
    assert server.requests == 2  # both really downloaded
    direct = ember.load(io.BytesIO(payload))
    expected = f"{float(direct['weight'].sum())} {float(direct['bias'].sum())}"
    assert [out.splitlines()[-1] for out, _ in results] == [expected] * 2
    assert sorted(p.name for p in cache.iterdir()) == [name]  # no .partial left behind
    assert hashlib.sha256((cache / name).read_bytes()).hexdigest() == digest


def _old_file(path):
    ember.save({"old": ember.tensor([1.0, 2.0, 3.0])}, path)
    return path.read_bytes()


def _big_state():
    return {f"t{i}": ember.from_numpy(np.full(50000, i, dtype=np.float32)) for i in range(8)}


def test_save_that_raises_half_way_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.pth"
    before = _old_file(path)
    real_add = zip_writer.ZipWriter.add
    calls = []

    def failing_add(self, name, data):
        calls.append(name)
        if "/data/3" in name:
            raise OSError(28, "No space left on device")
        return real_add(self, name, data)

    monkeypatch.setattr(zip_writer.ZipWriter, "add", failing_add)
    with pytest.raises(OSError, match="No space left"):
        ember.save(_big_state(), path)
    assert any("/data/2" in c for c in calls)  # it really stopped half-way
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pth"]  # temp file removed
    assert ember.load(path)["old"].tolist() == [1.0, 2.0, 3.0]


def test_keyboard_interrupt_during_save_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.pth"
    before = _old_file(path)
    real_add = zip_writer.ZipWriter.add

    def interrupted_add(self, name, data):
        if "/data/5" in name:
            raise KeyboardInterrupt
        return real_add(self, name, data)

    monkeypatch.setattr(zip_writer.ZipWriter, "add", interrupted_add)
    with pytest.raises(KeyboardInterrupt):
        ember.save(_big_state(), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pth"]


KILLED_SAVER = textwrap.dedent("""
    import pathlib, sys, time
    import numpy as np
    import ember
    from ember.serialization import zip_writer
    real_add = zip_writer.ZipWriter.add
    def slow_add(self, name, data):
        real_add(self, name, data)
        self.f.flush()
        if name.endswith("/data/3"):
            pathlib.Path(sys.argv[2]).write_text("half")  # tell the parent: kill me now
            time.sleep(60)
    zip_writer.ZipWriter.add = slow_add
    state = {f"t{i}": ember.from_numpy(np.full(50000, i, dtype=np.float32)) for i in range(8)}
    ember.save(state, sys.argv[1])
""")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_save_killed_mid_write_leaves_the_old_file(tmp_path):
    path = tmp_path / "model.pth"
    before = _old_file(path)
    flag = tmp_path.parent / f"{tmp_path.name}-half"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_SAVER, str(path), str(flag)])
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert proc.poll() is None, "the saver exited before reaching the halfway point"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        partial = [p for p in tmp_path.iterdir() if p.name != "model.pth"]
        assert partial and partial[0].stat().st_size > 3 * 200000  # it was mid-write
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    assert ember.load(path)["old"].tolist() == [1.0, 2.0, 3.0]
    # the dead writer's temporary file is hidden and never mistaken for the checkpoint
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "model.pth"]
    assert all(name.startswith(".model.pth.") and name.endswith(".tmp") for name in leftovers)


def test_save_into_a_missing_folder_or_onto_a_folder_fails_cleanly(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory .* does not exist"):  # torch's
        ember.save({"a": ember.zeros(1)}, tmp_path / "missing" / "x.pth")
    with pytest.raises(IsADirectoryError):
        ember.save({"a": ember.zeros(1)}, tmp_path)
    assert list(pathlib.Path(tmp_path).iterdir()) == []
    assert os.listdir(tmp_path) == []
