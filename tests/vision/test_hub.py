"""ember_vision.hub against a real HTTP server on 127.0.0.1 (started by the tests, no internet)."""
import hashlib
import http.server
import io
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import ember
import ember_tensor
from ember.serialization import save
from ember_vision import hub


def _checkpoint_bytes():
    buf = io.BytesIO()
    save({"w": ember.Tensor._make(ember_tensor.Array(np.arange(6, dtype=np.float32))),
          "n": ember.Tensor._make(ember_tensor.Array(np.array(3, dtype=np.int64)))}, buf)
    return buf.getvalue()


DATA = _checkpoint_bytes()
DIGEST = hashlib.sha256(DATA).hexdigest()
GOOD_NAME = f"tiny-{DIGEST[:8]}.pth"


class Handler(http.server.BaseHTTPRequestHandler):
    hits = []

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        Handler.hits.append(self.path)
        name = self.path.rsplit("/", 1)[-1]
        if self.path.startswith("/files/"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(DATA)))
            self.end_headers()
            self.wfile.write(DATA)
        elif self.path.startswith("/slow/"):  # arrives in pieces, so two clients overlap
            self.send_response(200)
            self.send_header("Content-Length", str(len(DATA)))
            self.end_headers()
            for i in range(0, len(DATA), 512):
                self.wfile.write(DATA[i:i + 512])
                self.wfile.flush()
                time.sleep(0.02)
        elif self.path.startswith("/cut/"):  # announces everything, sends half, hangs up
            self.send_response(200)
            self.send_header("Content-Length", str(len(DATA)))
            self.end_headers()
            self.wfile.write(DATA[: len(DATA) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.send_error(404, f"no such file {name}")


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """Ember's and torch's caches in a temporary folder; set_dir state reset."""
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "ember"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(hub, "_hub_dir", None)
    Handler.hits.clear()
    return tmp_path


def cache_files(home):
    folder = home / "ember" / "hub" / "checkpoints"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_checks_the_hash_and_caches(server, home, capsys):
    sd = hub.load_state_dict_from_url(f"{server}/files/{GOOD_NAME}", check_hash=True,
                                      progress=False)
    np.testing.assert_array_equal(sd["w"]._data._np, np.arange(6))
    assert sd["n"].item() == 3
    assert cache_files(home) == [GOOD_NAME]
    assert (home / "ember" / "hub" / "checkpoints" / GOOD_NAME).read_bytes() == DATA
    out = capsys.readouterr()
    assert f'Downloading: "{server}/files/{GOOD_NAME}" to ' in out.out
    assert out.err == ""  # progress=False: no bar


def test_cached_file_is_used_without_a_request(server, home):
    hub.load_state_dict_from_url(f"{server}/files/{GOOD_NAME}", progress=False)
    hub.load_state_dict_from_url(f"{server}/files/{GOOD_NAME}", progress=False)
    assert Handler.hits == [f"/files/{GOOD_NAME}"]


def test_file_in_torch_cache_is_reused(server, home):
    torch_dir = home / "torch" / "hub" / "checkpoints"
    torch_dir.mkdir(parents=True)
    (torch_dir / "resnet-00000000.pth").write_bytes(DATA)  # hash not checked for cached files
    sd = hub.load_state_dict_from_url(f"{server}/missing/resnet-00000000.pth", check_hash=True)
    assert sd["n"].item() == 3
    assert Handler.hits == [] and cache_files(home) == []


def test_wrong_hash_raises_torch_error_and_leaves_nothing(server, home):
    with pytest.raises(RuntimeError, match=r'invalid hash value \(expected "deadbeef", got "'
                                           + DIGEST + '"\\)'):
        hub.load_state_dict_from_url(f"{server}/files/tiny-deadbeef.pth", check_hash=True,
                                     progress=False)
    assert cache_files(home) == []


def test_connection_cut_mid_file_leaves_nothing(server, home):
    dst = home / "ember" / "hub" / "checkpoints" / GOOD_NAME
    with pytest.raises(RuntimeError) as info:
        hub.load_state_dict_from_url(f"{server}/cut/{GOOD_NAME}", progress=False)
    message = str(info.value)
    assert f"{server}/cut/{GOOD_NAME}" in message and str(dst) in message
    assert cache_files(home) == []


def test_404_names_url_status_and_where_to_put_the_file(server, home):
    dst = home / "ember" / "hub" / "checkpoints" / "absent.pth"
    with pytest.raises(RuntimeError, match="HTTP 404") as info:
        hub.load_state_dict_from_url(f"{server}/nothing/absent.pth", progress=False)
    assert f"{server}/nothing/absent.pth" in str(info.value) and str(dst) in str(info.value)
    assert cache_files(home) == []


def test_offline_error_names_the_cache_path(home):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(RuntimeError, match="could not download") as info:
        hub.load_state_dict_from_url(f"http://127.0.0.1:{port}/x/offline.pth", progress=False)
    assert str(home / "ember" / "hub" / "checkpoints" / "offline.pth") in str(info.value)
    assert cache_files(home) == []


def test_progress_bar_counts_bytes(server, home, capsys):
    dst = home / "direct.pth"
    hub.download_url_to_file(f"{server}/files/{GOOD_NAME}", str(dst), progress=True)
    assert dst.read_bytes() == DATA
    err = capsys.readouterr().err
    assert "100%" in err and "B" in err


def test_download_url_to_file_hash_prefix(server, home):
    dst = home / "direct.pth"
    hub.download_url_to_file(f"{server}/files/x.pth", dst, hash_prefix=DIGEST[:12], progress=False)
    assert dst.read_bytes() == DATA
    with pytest.raises(RuntimeError, match="invalid hash value"):
        hub.download_url_to_file(f"{server}/files/x.pth", home / "other.pth",
                                 hash_prefix="0" * 8, progress=False)
    assert not (home / "other.pth").exists()
    assert not [p for p in home.iterdir() if p.name.endswith(".partial")]


def test_concurrent_downloads_leave_one_good_file(server, home):
    dst = home / "shared" / GOOD_NAME
    code = ("import sys; from ember_vision import hub; "
            "hub.download_url_to_file(sys.argv[1], sys.argv[2], sys.argv[3], progress=False)")
    procs = [subprocess.Popen([sys.executable, "-c", code, f"{server}/slow/{GOOD_NAME}",
                               str(dst), DIGEST[:8]]) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    assert sorted(os.listdir(dst.parent)) == [GOOD_NAME]
    assert dst.read_bytes() == DATA


def test_cache_directories_follow_the_environment(tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "_hub_dir", None)
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "e"))
    assert hub.get_dir() == str(tmp_path / "e" / "hub")
    monkeypatch.delenv("EMBER_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.get_dir() == str(tmp_path / "xdg" / "ember" / "hub")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert hub.get_dir() == os.path.expanduser("~/.cache/ember/hub")
    hub.set_dir(tmp_path / "mine")
    assert hub.get_dir() == str(tmp_path / "mine")


def test_set_dir_and_model_dir_choose_where_files_go(server, home):
    hub.set_dir(home / "custom")
    hub.load_state_dict_from_url(f"{server}/files/{GOOD_NAME}", progress=False)
    assert (home / "custom" / "checkpoints" / GOOD_NAME).exists()
    hub.load_state_dict_from_url(f"{server}/files/{GOOD_NAME}", model_dir=home / "md",
                                 file_name="renamed.pth", progress=False)
    assert (home / "md" / "renamed.pth").read_bytes() == DATA


def test_layout_file_used_as_cached_resnet_weights(shared_dir, home):
    """The README's recipe: the stand-in weights as a cached resnet18-f37072fd.pth."""
    src = shared_dir / "weights" / "resnet18-imagenet-layout.pth"
    if not src.exists():
        pytest.skip("resnet18-imagenet-layout.pth is not present")
    folder = home / "ember" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    os.symlink(src, folder / "resnet18-f37072fd.pth")
    sd = hub.load_state_dict_from_url("https://download.pytorch.org/models/resnet18-f37072fd.pth",
                                      check_hash=True, progress=False)
    assert len(sd) == 102 and tuple(sd["conv1.weight"].shape) == (64, 3, 7, 7)
