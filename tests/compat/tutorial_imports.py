"""What the tutorial scripts import as ``torch`` and ``torchvision``.

A script starts with ``from tutorial_imports import torch, torchvision, DATA``: under the
default suite these are ``ember`` and ``ember_vision`` (``import ember as torch``); the torch
env's runner points them at real torch and torchvision. ``DATA`` is the folder of small
local datasets (tutorial_data.py) that replaces the tutorials' downloads.
"""
import ember as torch
import ember_vision as torchvision

DATA = None

__all__ = ["torch", "torchvision", "DATA"]
