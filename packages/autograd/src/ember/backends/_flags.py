"""Boolean switches that scripts set for GPU libraries (``cudnn.benchmark = True``).

Ember has none of those libraries; the switches keep their values so code that sets and reads
them runs, and refuse a non-bool as torch does.
"""
import types


class BoolFlag:
    """A class attribute holding one bool; ``setter`` is the name torch's error message uses."""

    def __init__(self, default: bool, setter: str):
        self.value = default
        self.setter = setter

    def __get__(self, obj, owner=None) -> bool:
        return self.value

    def __set__(self, obj, value: bool) -> None:
        if type(value) is not bool:
            kind = type(value)
            name = kind.__name__ if kind.__module__ == "builtins" else (
                f"{kind.__module__}.{kind.__name__}")
            raise RuntimeError(f"{self.setter} expects a bool, but got {name}")
        self.value = value


class FlagModule(types.ModuleType):
    """The class a module switches to (``sys.modules[__name__].__class__ = ...``) so that
    assigning its flags goes through BoolFlag, as torch's backends modules do."""
