"""Autograd computes vector-Jacobian products: Q.backward(gradient=v) gives J^T v."""
import ember as torch
from ember.autograd.functional import hessian, jacobian, jvp, vjp

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3*a**3 - b**2
v = torch.tensor([1., 0.5])
Q.backward(gradient=v)
print(a.grad, b.grad)  # J^T v: 9a^2 * v and -2b * v

# the same product without touching .grad
a2 = torch.tensor([2., 3.], requires_grad=True)
(ga,) = torch.autograd.grad(3*a2**3, a2, grad_outputs=v)
print(ga)


def f(x):
    return 3*x**3


x = torch.tensor([2., 3.])
print(jacobian(f, x))              # diag(9x^2)
print(vjp(f, x, v)[1])             # v^T J
print(jvp(f, x, v)[1])             # J v
print(hessian(lambda t: (t**3).sum(), x))  # diag(6x)
