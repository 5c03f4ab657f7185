"""Grad modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

The flags are thread-local (a DataLoader worker thread must not switch off grad in the main
thread). Every mode is both a context manager and a decorator, as in torch.
"""
import functools
import inspect
import threading

__all__ = [
    "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled",
]


class _State(threading.local):
    def __init__(self):
        self.grad_enabled = True
        self.inference = False


_state = _State()


def is_grad_enabled():
    return _state.grad_enabled


def is_inference_mode_enabled():
    return _state.inference


def _set_enabled(mode):
    _state.grad_enabled = bool(mode)


class _Mode:
    """Base of the modes: subclasses define ``_enter``/``_exit``; decorating wraps calls."""

    def __call__(self, func):
        if inspect.isclass(func):
            raise RuntimeError("grad-mode decorators cannot decorate a class")
        mode = self

        if inspect.isgeneratorfunction(func):
            @functools.wraps(func)
            def gen_wrapper(*args, **kwargs):
                gen = func(*args, **kwargs)
                with mode.clone():
                    try:
                        value = next(gen)
                    except StopIteration as stop:
                        return stop.value
                while True:
                    try:
                        sent = yield value
                    except GeneratorExit:
                        gen.close()
                        raise
                    except BaseException as exc:
                        with mode.clone():
                            try:
                                value = gen.throw(exc)
                            except StopIteration as stop:
                                return stop.value
                        continue
                    with mode.clone():
                        try:
                            value = gen.send(sent)
                        except StopIteration as stop:
                            return stop.value
            return gen_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with mode.clone():
                return func(*args, **kwargs)
        return wrapper

    def clone(self):
        return self.__class__()

    def __enter__(self):
        self._saved = (_state.grad_enabled, _state.inference)
        self._enter()
        return None

    def __exit__(self, *exc):
        _state.grad_enabled, _state.inference = self._saved
        return False


class _ArglessMode(_Mode):
    """A mode taking no argument, usable as ``@mode`` as well as ``@mode()`` (as torch)."""

    def __new__(cls, orig_func=None):
        if orig_func is not None:
            return cls()(orig_func)
        return super().__new__(cls)

    def __init__(self, orig_func=None):
        pass


class no_grad(_ArglessMode):
    """Context manager / decorator that disables gradient recording."""

    def _enter(self):
        _state.grad_enabled = False


class enable_grad(_ArglessMode):
    """Context manager / decorator that enables gradient recording."""

    def _enter(self):
        _state.grad_enabled = True


class set_grad_enabled(_Mode):
    """Set grad mode to ``mode``. Takes effect at once when called as a function too."""

    def __init__(self, mode):
        self.prev = _state.grad_enabled
        self.mode = bool(mode)
        _state.grad_enabled = self.mode

    def __call__(self, func):
        _state.grad_enabled = self.prev
        return super().__call__(func)

    def clone(self):
        return self.__class__(self.mode)

    def __enter__(self):
        self._saved = (self.prev, _state.inference)
        _state.grad_enabled = self.mode

    def _enter(self):
        pass


class inference_mode(_Mode):
    """Like ``no_grad`` but stronger: tensors made inside are inference tensors."""

    def __new__(cls, mode=True):
        if callable(mode) and not isinstance(mode, bool):
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def clone(self):
        return self.__class__(self.mode)

    def _enter(self):
        if self.mode:
            _state.grad_enabled = False
            _state.inference = True
        else:
            _state.inference = False


for _mode in (no_grad, enable_grad, set_grad_enabled, inference_mode):
    _mode.__module__ = "ember.autograd.grad_mode"  # where torch users find them
del _mode
