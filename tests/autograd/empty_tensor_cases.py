"""Tensors with no elements, built the same way on ember and torch: their strides and the
in-place ops torch accepts on them (nothing is written, so nothing can overlap)."""

MAKERS = {
    "zeros(3, 0)": lambda m: m.zeros(3, 0),
    "zeros(2, 0, 4)": lambda m: m.zeros(2, 0, 4),
    "zeros(0)": lambda m: m.zeros(0),
    "zeros(3, 4)[:, :0]": lambda m: m.zeros(3, 4)[:, :0],
    "zeros(0, 5)[1:]": lambda m: m.zeros(0, 5)[1:],
}

# ones(1).expand(0): expanded, so a read-only view underneath; torch writes nothing there
IN_PLACE_ONLY = {"ones(1).expand(0)": lambda m: m.ones(1).expand(0)}

IN_PLACE = {
    "add_": lambda m, t: t.add_(2),
    "mul_": lambda m, t: t.mul_(t),
    "zero_": lambda m, t: t.zero_(),
    "fill_": lambda m, t: t.fill_(3.0),
    "copy_": lambda m, t: t.copy_(m.zeros(t.shape)),
    "clamp_": lambda m, t: t.clamp_(0, 1),
    "iadd": lambda m, t: t.__iadd__(1),
}
