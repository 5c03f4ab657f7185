"""Differentiation in autograd: Q = 3a^3 - b^2, dQ/da = 9a^2, dQ/db = -2b."""
import ember as torch

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3*a**3 - b**2
external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)
print(9*a**2 == a.grad)
print(-2*b == b.grad)
print(9*a**2 == a.grad, a.grad)
print(-2*b == b.grad, b.grad)

# the notebooks' variant: other values, and Q.sum().backward() instead of a gradient
a = torch.tensor([3., 4.], requires_grad=True)
b = torch.tensor([5., 7.], requires_grad=True)
print((a, b))
Q = 3*a**3 - b**2
print(Q)
Q.sum().backward()
print((a.grad, b.grad))
print(9*a**2)

# a non-scalar output needs the gradient argument, as in torch
Q = 3*a**3 - b**2
try:
    Q.backward()
except RuntimeError as err:
    print(f"RuntimeError: {err}")
