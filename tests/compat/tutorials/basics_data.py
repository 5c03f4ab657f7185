"""Learn the Basics, datasets and loaders: FashionMNIST indexed by a random index, a custom
Dataset over an annotated image folder read with torchvision.io.read_image, DataLoader with
shuffling, one batch. Data: local files; the CSV is read with the csv module."""
import csv
import os

from tutorial_imports import DATA, torch, torchvision

Dataset = torch.utils.data.Dataset
DataLoader = torch.utils.data.DataLoader
datasets = torchvision.datasets
ToTensor = torchvision.transforms.ToTensor
read_image = torchvision.io.read_image

training_data = datasets.FashionMNIST(root=DATA, train=True, download=True,
                                      transform=ToTensor())
test_data = datasets.FashionMNIST(root=DATA, train=False, download=True,
                                  transform=ToTensor())

labels_map = {0: "T-Shirt", 1: "Trouser", 2: "Pullover", 3: "Dress", 4: "Coat", 5: "Sandal",
              6: "Shirt", 7: "Sneaker", 8: "Bag", 9: "Ankle Boot"}
cols, rows = 3, 3
for i in range(1, cols * rows + 1):
    sample_idx = torch.randint(len(training_data), size=(1,)).item()
    img, label = training_data[sample_idx]
    shown = img.squeeze()
    assert shown.shape == (28, 28) and labels_map[label]


class CustomImageDataset(Dataset):
    def __init__(self, annotations_file, img_dir, transform=None, target_transform=None):
        with open(annotations_file, newline="") as f:
            self.img_labels = [(name, int(label)) for name, label in csv.reader(f)]
        self.img_dir = img_dir
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.img_labels)

    def __getitem__(self, idx):
        img_path = os.path.join(self.img_dir, self.img_labels[idx][0])
        image = read_image(img_path)
        label = self.img_labels[idx][1]
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            label = self.target_transform(label)
        return image, label


custom = CustomImageDataset(os.path.join(DATA, "annotated", "labels.csv"),
                            os.path.join(DATA, "annotated", "images"))
image, label = custom[0]
assert image.shape == (1, 28, 28) and image.dtype == torch.uint8

train_dataloader = DataLoader(training_data, batch_size=64, shuffle=True)
test_dataloader = DataLoader(test_data, batch_size=64, shuffle=True)

train_features, train_labels = next(iter(train_dataloader))
print(f"Feature batch shape: {train_features.size()}")
print(f"Labels batch shape: {train_labels.size()}")
img = train_features[0].squeeze()
label = train_labels[0]
print(f"Label: {label}")
assert train_features.size() == (64, 1, 28, 28)
