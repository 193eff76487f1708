#!/usr/bin/env bash
# Every check that needs a GPU, in one run of at most 8 minutes, for a lent GPU machine whose time is short.
#
#     TINYNET_DATA=DIR bash benchmarks/gpu_checks.sh LOGS [SECONDS]
#
# DIR holds Fashion-MNIST's four IDX .gz files (a GPU machine that cannot download gets them copied
# into the tree); LOGS receives one log per check (at most 8 files, the device tool's limit). Run from
# the repository root with a python3 that has CuPy, PyTorch with CUDA, Numba, NumPy, pytest and
# hypothesis (no install needed: the script sets PYTHONPATH to the tree). The checks run most needed
# first, each within a time limit of its own and all within SECONDS (480 unless given), so one that
# hangs does not take the others' time; a failed check is reported in its log and the next one runs.
# What the logs are for: the GPU rows of issue 13's targets and the GPU section of benchmarks/RESULTS.md.
set -uo pipefail
logs=${1:?usage: TINYNET_DATA=DIR bash benchmarks/gpu_checks.sh LOGS [SECONDS]}
deadline=$((SECONDS + ${2:-480}))
mkdir -p "$logs"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
runs=$(mktemp -d)

check() {  # check NAME SECONDS COMMAND...: COMMAND's output and exit status appended to LOGS/NAME.txt
    local name=$1 limit=$2
    shift 2
    if ((deadline - SECONDS < limit)); then limit=$((deadline - SECONDS)); fi
    echo "== $name ($(date -u +%TZ), at most ${limit} s): $*" | tee -a "$logs/$name.txt"
    if ((limit < 10)); then echo "not run: the time given to the script is spent" | tee -a "$logs/$name.txt"; return; fi
    timeout "$limit" "$@" >>"$logs/$name.txt" 2>&1
    echo "exit status $? (124: stopped at the time limit)" | tee -a "$logs/$name.txt"
}

{ date -u; nvidia-smi; git log -1 --format='%H %s'; python3 -m tinynet; } >"$logs/machine.txt" 2>&1
# the CuPy and CUDA kernels against the NumPy references, and gradient checks on CuPy arrays
check pytest_gpu 150 python3 -m pytest -q -m gpu -p no:cacheprovider tests/
# paper 000's epoch with the per-step CUDA cell kernels (the default), then with the whole-sequence kernel
check lstm_epoch 75 python3 examples/lstm_fmnist.py --device gpu --epochs 1 --no-progress --out "$runs/a"
check lstm_epoch 75 env TINYNET_CUDA_LSTM_SEQUENCE=1 \
    python3 examples/lstm_fmnist.py --device gpu --epochs 1 --no-progress --out "$runs/b"
# the same epoch against PyTorch on cuDNN, each engine alone in a process of its own
check compare_epoch 120 python3 benchmarks/compare_torch.py --epoch --device gpu --repeats 2
# paper 002's CNN 1 at batch 32 (target: an epoch within 5 s)
check cnn1_epoch 75 python3 examples/ann_cnn_fmnist.py --model cnn1 --device gpu --epochs 1 --no-progress \
    --out "$runs/c"
# training steps, side by side with PyTorch
check compare_steps 100 python3 benchmarks/compare_torch.py --device gpu --model lstm cnn_lstm lenet5 \
    --processes 2 --rounds 5 --steps 20
rm -rf "$runs"
