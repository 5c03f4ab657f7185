"""60-minute blitz, autograd: requires_grad, grad_fn, backward of a mean, a
vector-Jacobian product through a data-dependent loop, no_grad."""
from tutorial_imports import torch

x = torch.ones(2, 2, requires_grad=True)
print(x)
y = x + 2
print(y)
print(y.grad_fn)
z = y * y * 3
out = z.mean()
print(z, out)

a = torch.randn(2, 2)
a = ((a * 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn)

out.backward()
print(x.grad)
assert torch.allclose(x.grad, torch.full((2, 2), 4.5))

x = torch.randn(3, requires_grad=True)
y = x * 2
while y.data.norm() < 1000:
    y = y * 2
print(y)
gradients = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(gradients)
print(x.grad)
scale = (y / x).detach()  # the loop multiplied x by a power of two
assert torch.allclose(x.grad, gradients * scale)

print(x.requires_grad)
print((x ** 2).requires_grad)
with torch.no_grad():
    print((x ** 2).requires_grad)
    assert not (x ** 2).requires_grad
