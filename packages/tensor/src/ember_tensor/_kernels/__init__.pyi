# The kernel modules are Cython extensions compiled three times (one per CPU level); the
# one imported is chosen at run time. They carry no type information: to a type checker each
# is Any.
from typing import Any

def __getattr__(name: str) -> Any: ...
