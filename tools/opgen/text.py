"""Line wrapping of the generated code: lists of names, strings, dict items, imports."""


def _wrapped(items, indent="    ", width=96):
    lines, line = [], indent
    for item in items:
        if len(line) + len(item) + 1 > width:
            lines.append(line.rstrip())
            line = indent
        line += item + " "
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _wrapped_strings(names):
    return _wrapped([f'"{n}",' for n in names])


def _wrapped_names(names):
    return _wrapped([f"{n}," for n in names])


def _wrapped_items(names):
    return _wrapped([f'"{n}": {n},' for n in names])


def _wrapped_assign(names):
    out = []
    for i in range(0, len(names), 5):
        out.append(" = ".join(names[i:i + 5]) + " = None")
    return out


def _wrapped_import(module, names):
    head = f"from {module} import "
    if len(head) + len(", ".join(names)) <= 100:
        return [head + ", ".join(names)]
    return [head + "(", *_wrapped([n + "," for n in names]), ")"]
