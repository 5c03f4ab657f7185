"""``RemovableHandle``: what registering a hook returns; ``remove()`` unregisters it.

One class for tensor, node and module hooks (torch.utils.hooks.RemovableHandle).
"""
import weakref

__all__ = ["RemovableHandle"]


def _ref(obj):
    try:
        return weakref.ref(obj)
    except TypeError:
        return lambda: obj


class RemovableHandle:
    """Handle returned by ``register_*_hook``: ``remove()`` (or leaving a ``with``) drops it."""

    _next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        # a weak reference, so a handle never keeps its hooks alive (plain dicts can't be
        # weakly referenced: those are held strongly)
        self.hooks_dict_ref = _ref(hooks_dict)
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1
        self.extra_dict_ref = _ref(extra_dict) if extra_dict is not None else None

    def remove(self):
        hooks = self.hooks_dict_ref()
        if hooks is not None:
            hooks.pop(self.id, None)
        extra = self.extra_dict_ref() if self.extra_dict_ref is not None else None
        if extra is not None:
            extra.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _HookDict(dict):
    """A dict that can be weakly referenced, so handles don't keep hooks alive."""
