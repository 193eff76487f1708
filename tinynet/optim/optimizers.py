"""SGD, RMSprop and Adam with PyTorch's update rules (torch.optim), updating arrays in place.

Notation: w the weight, g its gradient (after weight decay), lr the learning rate, t the step.
"""
from __future__ import annotations

from ..backend import get_array_module
from ..kernels import adam_update
from .optimizer import Optimizer, check_hyperparameter


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (PyTorch's form):

        b = momentum * b + (1 - dampening) * g      (b = g at the first step)
        d = g + momentum * b if nesterov else b     (d = g without momentum)
        w = w - lr * d
    """

    hyperparameters = ("lr", "momentum", "dampening", "weight_decay", "nesterov")

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr, weight_decay)
        check_hyperparameter("SGD", "momentum", momentum)
        check_hyperparameter("SGD", "dampening", dampening, high=1.0)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")
        self.momentum, self.dampening, self.nesterov = momentum, dampening, nesterov

    def update(self, parameter, g, state):
        if self.momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.copy()
            else:
                buffer = state["momentum_buffer"]
                buffer *= self.momentum
                buffer += (1 - self.dampening) * g
            buffer = state["momentum_buffer"]
            g = g + self.momentum * buffer if self.nesterov else buffer
        parameter.data -= self.lr * g


class RMSprop(Optimizer):
    """Divide the gradient by a running root mean square (Hinton's lecture 6e; PyTorch's form):

        s = alpha * s + (1 - alpha) * g^2
        a = alpha * a + (1 - alpha) * g;  s' = s - a^2     (centered only; else s' = s)
        r = sqrt(s') + eps      (PyTorch)     or     r = sqrt(s' + eps)      (eps_inside_sqrt, Keras)
        w = w - lr * g / r                      or with momentum: b = momentum * b + g / r, w = w - lr * b

    Keras' defaults (paper 002) are RMSprop(lr=0.001, alpha=0.9, eps=1e-7, eps_inside_sqrt=True).
    """

    hyperparameters = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "eps_inside_sqrt")

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, eps_inside_sqrt=False):
        super().__init__(params, lr, weight_decay)
        check_hyperparameter("RMSprop", "alpha", alpha, high=1.0)
        check_hyperparameter("RMSprop", "eps", eps)
        check_hyperparameter("RMSprop", "momentum", momentum)
        self.alpha, self.eps, self.momentum = alpha, eps, momentum
        self.centered, self.eps_inside_sqrt = centered, eps_inside_sqrt

    def update(self, parameter, g, state):
        xp = get_array_module(g)
        if "square_avg" not in state:
            state["square_avg"] = xp.zeros_like(parameter.data)
            if self.centered:
                state["grad_avg"] = xp.zeros_like(parameter.data)
            if self.momentum:
                state["momentum_buffer"] = xp.zeros_like(parameter.data)
        square_avg = state["square_avg"]
        square_avg *= self.alpha
        square_avg += (1 - self.alpha) * g * g
        mean_square = square_avg
        if self.centered:
            grad_avg = state["grad_avg"]
            grad_avg *= self.alpha
            grad_avg += (1 - self.alpha) * g
            mean_square = square_avg - grad_avg * grad_avg
        root = xp.sqrt(mean_square + self.eps) if self.eps_inside_sqrt else xp.sqrt(mean_square) + self.eps
        if self.momentum:
            buffer = state["momentum_buffer"]
            buffer *= self.momentum
            buffer += g / root
            parameter.data -= self.lr * buffer
        else:
            parameter.data -= self.lr * g / root


class Adam(Optimizer):
    """Adaptive moment estimation (Kingma & Ba, 2015; PyTorch's form):

        m = beta1 * m + (1 - beta1) * g            v = beta2 * v + (1 - beta2) * g^2
        w = w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        if len(tuple(betas)) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        for index, beta in enumerate(betas):
            check_hyperparameter("Adam", f"beta{index + 1} (betas[{index}])", beta, high=1.0, high_inclusive=False)
        check_hyperparameter("Adam", "eps", eps)
        self.betas, self.eps = tuple(betas), eps

    def update(self, parameter, g, state):
        xp = get_array_module(g)
        beta1, beta2 = self.betas
        if "step" not in state:
            state.update(step=0, exp_avg=xp.zeros_like(parameter.data), exp_avg_sq=xp.zeros_like(parameter.data))
        state["step"] += 1
        correction1, correction2 = 1 - beta1 ** state["step"], 1 - beta2 ** state["step"]
        adam_update(parameter.data, g, state["exp_avg"], state["exp_avg_sq"], beta1, beta2,
                    self.lr / correction1, correction2 ** 0.5, self.eps)  # tinynet/kernels/adam.py
