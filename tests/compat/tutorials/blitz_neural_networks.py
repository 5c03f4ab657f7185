"""60-minute blitz, neural networks: a LeNet-style Module, parameters, a backward with an
explicit gradient, MSELoss, walking grad_fn.next_functions, and one SGD step."""
from tutorial_imports import torch

nn = torch.nn
F = torch.nn.functional
optim = torch.optim


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, self.num_flat_features(x))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)

    def num_flat_features(self, x):
        count = 1
        for s in x.size()[1:]:
            count *= s
        return count


net = Net()
print(net)
params = list(net.parameters())
print(len(params))
print(params[0].size())
assert len(params) == 10 and params[0].size() == (6, 1, 5, 5)

input = torch.randn(1, 1, 32, 32)
out = net(input)
print(out)
net.zero_grad()
out.backward(torch.randn(1, 10))

output = net(input)
target = torch.arange(1, 11)
target = target.view(1, -1)
criterion = nn.MSELoss()
loss = criterion(output, target)
print(loss)

print(loss.grad_fn)
print(loss.grad_fn.next_functions[0][0])
print(loss.grad_fn.next_functions[0][0].next_functions[0][0])
assert type(loss.grad_fn).__name__ == "MseLossBackward0"

net.zero_grad()
print('conv1.bias.grad before backward')
print(net.conv1.bias.grad)
loss.backward()
print('conv1.bias.grad after backward')
print(net.conv1.bias.grad)
assert net.conv1.bias.grad.shape == (6,)

optimizer = optim.SGD(net.parameters(), lr=0.01)
optimizer.zero_grad()
output = net(input)
loss = criterion(output, target)
loss.backward()
before = net.fc3.bias.detach().clone()
optimizer.step()
assert not torch.equal(before, net.fc3.bias)
