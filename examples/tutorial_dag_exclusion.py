"""The computational graph, and exclusion from it."""
import ember as torch

# the graph: grad_fn nodes linked by next_functions, leaves accumulate into .grad
a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3*a**3 - b**2
print(Q.grad_fn)
print([type(fn).__name__ for fn, _ in Q.grad_fn.next_functions])

x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)

a = x + y
print(f"Does `a` require gradients?: {a.requires_grad}")
b = x + z
print(f"Does `b` require gradients?: {b.requires_grad}")

with torch.no_grad():  # the same exclusion as a context manager
    c = x + z
print(f"Does `c` require gradients?: {c.requires_grad}")
