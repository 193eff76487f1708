"""Paper 000: an LSTM classifies Fashion-MNIST, reading each image as 28 rows of 28 pixels.

    python examples/lstm_fmnist.py                 # the paper's setting: Adam 1e-3, batch 100, 10 epochs
    python examples/lstm_fmnist.py --device gpu    # on a CUDA GPU (needs CuPy: pip install "tinynet[gpu]")
    python examples/lstm_fmnist.py --quick         # smoke run, a few batches
"""
import tinynet as tn
from tinynet import data, experiment, nn, optim
from tinynet.models import LSTMClassifier


def main(argv=None):
    args = experiment.parser(__doc__.splitlines()[0], epochs=10, batch_size=100, lr=1e-3).parse_args(argv)
    experiment.setup(args, "lstm_fmnist")
    loaders = experiment.load_data(args, transform=data.ScaleTo01())
    model = LSTMClassifier().to(args.device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    experiment.run(args, model, nn.NLLLoss(), optimizer, loaders,
                   title="Paper 000: LSTM(28, 64, 2 layers) on Fashion-MNIST")


if __name__ == "__main__":
    main()
