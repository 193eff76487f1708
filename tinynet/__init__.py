"""tinynet: a from-scratch deep-learning engine you can read, fast enough to train real models.

    import tinynet as tn
    from tinynet import nn, optim
    import tinynet.functional as F
"""
from . import boosting, data, functional, nn, optim, prune
from .backend import DeviceError, gpu_available, manual_seed
from .debug import detect_anomaly, profile
from .gradcheck import GradcheckError, NonDifferentiableError, gradcheck
from .serialization import load, load_checkpoint, save, save_checkpoint
from .tensor import Tensor, is_grad_enabled, no_grad, tensor

__version__ = "0.1.0"

__all__ = ["Tensor", "tensor", "no_grad", "is_grad_enabled", "manual_seed", "gpu_available", "DeviceError",
           "gradcheck", "GradcheckError", "NonDifferentiableError", "save", "load", "save_checkpoint",
           "load_checkpoint", "functional", "nn", "optim", "data", "prune", "boosting", "detect_anomaly", "profile"]
