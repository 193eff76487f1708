"""Hot loops, each in up to three versions behind one dispatching function:

1. a NumPy reference (``*_reference``), short and readable; written against ``xp`` so the same
   code is also the vectorised CuPy path on the GPU;
2. a Numba version (``*_numba``), compiled once and cached on disk, the default on the CPU;
3. a CuPy ``ElementwiseKernel`` where fusing elementwise steps pays (the LSTM cell, the Adam step), or a
   CUDA kernel (the LSTM's whole sequence, opt-in).

Some are whole-array updates rather than loops (adam.py: one pass of the Adam step instead of a dozen).

``TINYNET_NUMBA=0`` in the environment forces the references on the CPU, so a learner can step
through them with a debugger. This package knows nothing of Tensors: arrays in, arrays out.
"""
from .adam import adam_update
from .convolution import (
    col2im,
    conv_one_channel,
    conv_one_channel_weight_grad,
    conv_output_size,
    direct_convolution_applies,
    im2col,
)
from .dispatch import BLAS_ON_NUMBA_THREADS, matrix_product, numba_enabled
from .lstm_cell import lstm_cell_backward, lstm_cell_forward
from .pooling import avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward

__all__ = ["adam_update", "im2col", "col2im", "conv_output_size", "conv_one_channel", "conv_one_channel_weight_grad",
           "direct_convolution_applies", "max_pool_forward", "max_pool_backward", "avg_pool_forward",
           "avg_pool_backward", "lstm_cell_forward", "lstm_cell_backward", "matrix_product", "numba_enabled",
           "BLAS_ON_NUMBA_THREADS"]
