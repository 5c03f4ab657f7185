"""The same sessions as tox.ini, for those who prefer nox: ``nox -l`` lists them.

Every session reuses its virtualenv (``-r``) and forwards extra arguments to pytest or to
the benchmark runner (``nox -s tests-3.12 -- -k printing``).
"""
import nox

nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests", "tensor", "autograd", "vision", "levels", "mpi", "torch",
                         "lint"]
nox.options.error_on_missing_interpreters = True

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
TENSOR = "packages/tensor"
AUTOGRAD = "packages/autograd"
VISION = "packages/vision"
PYTEST = ("python", "-m", "pytest", "-q", "-p", "no:cacheprovider")
ENV = {"OMP_NUM_THREADS": "2", "PYTHONDONTWRITEBYTECODE": "1"}


def _install(session, *folders, extra=()):
    session.install("pytest>=7", "hypothesis>=6", *extra)
    session.install(*folders)


@nox.session(python=PYTHONS)
def tests(session):
    """The whole suite with all three packages installed, on each supported Python."""
    _install(session, TENSOR, AUTOGRAD, VISION + "[plot]")
    session.run(*PYTEST, "tests", *session.posargs, env=ENV)


@nox.session(python="3.11")
def tensor(session):
    """ember-tensor alone (numpy only): its own tests prove it needs nothing above it."""
    _install(session, TENSOR)
    session.run(*PYTEST, "tests/tensor", *session.posargs, env=ENV)


@nox.session(python="3.11")
def autograd(session):
    """ember-tensor + ember-autograd, without the vision package."""
    _install(session, TENSOR, AUTOGRAD)
    session.run(*PYTEST, "tests/autograd", *session.posargs, env=ENV)


@nox.session(python="3.11")
def vision(session):
    """All three packages, the vision and cross-package tests."""
    _install(session, TENSOR, AUTOGRAD, VISION + "[plot]")
    session.run(*PYTEST, "tests/vision", "tests/integration", *session.posargs, env=ENV)


@nox.session(python="3.11")
def levels(session):
    """The kernel and autograd tests under each CPU level this machine runs (EMBER_CPU)."""
    _install(session, TENSOR, AUTOGRAD)
    session.run("python", "tools/run_cpu_levels.py", "tests/tensor", "tests/autograd",
                *PYTEST[3:], *session.posargs, env=ENV)


@nox.session(python="3.11")
def mpi(session):
    """The distributed tests with mpi4py + MPICH's PyPI wheel (two-rank ones under mpiexec)."""
    _install(session, TENSOR, AUTOGRAD, VISION, extra=("mpi4py>=3.1", "mpich"))
    session.run(*PYTEST, "tests/distributed", *session.posargs, env=ENV)


@nox.session(python="3.11")
def torch(session):
    """The torch-backed tests: torch 2.13.0 (CPU) and torchvision's Python parts as oracles."""
    _install(session, TENSOR, AUTOGRAD, VISION + "[plot]", extra=("torch==2.13.0", "scipy"))
    # torchvision's wheel pins a newer torch: without its dependencies (see tox.ini)
    session.install("--no-deps", "torchvision==0.29.1")
    session.run(*PYTEST, "tests", "-m", "torch", *session.posargs, env=ENV)


@nox.session(python="3.11")
def bench(session):
    """Benchmarks against torch, each framework in its own process; prints Ember / torch."""
    _install(session, TENSOR, AUTOGRAD, VISION, extra=("torch==2.13.0",))
    session.run("python", "benchmarks/run.py", *session.posargs, env=ENV)


@nox.session(python="3.11")
def boundscheck(session):
    """The suite against a kernel build with Cython bounds checking switched on."""
    session.install("pytest>=7", "hypothesis>=6")
    session.install("--no-cache-dir", TENSOR, AUTOGRAD, VISION,
                    env={"EMBER_BOUNDSCHECK": "1"})
    session.run(*PYTEST, "tests", *session.posargs, env=ENV)


@nox.session(python="3.11")
def fuzz(session):
    """Loader fuzzing (10,000 mutated checkpoints) and heavier kernel properties."""
    _install(session, TENSOR, AUTOGRAD, VISION)
    env = dict(ENV, EMBER_FUZZ_EXAMPLES="300")
    session.run("python", "tools/fuzz_loader.py", "--cases", "10000", env=env)
    session.run(*PYTEST, "tests/reliability", *session.posargs, env=env)


@nox.session(python="3.11")
def lint(session):
    """ruff over Python sources, cython-lint over the kernels, mypy over the packages."""
    session.install("ruff", "cython-lint", "mypy>=2.4,<3", "numpy>=2", "pillow")
    session.run("ruff", "check", "packages", "tests", "tools", "benchmarks", "examples",
                "noxfile.py", *session.posargs)
    session.run("cython-lint", "--max-line-length", "100", "--ignore=E741",
                "--exclude", r"(binary|unary)\.pyx$",  # generated from the .pyx.tp
                "packages/tensor/src/ember_tensor/_kernels")
    session.run("cython-lint", "--max-line-length", "100", "--ignore=E741",
                "packages/autograd/src/ember")  # the compiled core of ember
    session.run("mypy", "--config-file", "mypy.ini", "packages/tensor/src/ember_tensor",
                "packages/autograd/src/ember", "packages/vision/src/ember_vision")
