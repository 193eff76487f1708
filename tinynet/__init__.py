"""tinynet: a from-scratch deep-learning engine you can read, fast enough to train real models."""
from .backend import DeviceError, gpu_available, manual_seed
from .tensor import Tensor, no_grad, is_grad_enabled, tensor
from . import functional
from .gradcheck import GradcheckError, NonDifferentiableError, gradcheck

__version__ = "0.1.0"
from . import nn, optim, data
from .serialization import load, load_checkpoint, save, save_checkpoint
from . import prune, boosting
