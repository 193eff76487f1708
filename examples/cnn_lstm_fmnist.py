"""Paper 001: CNN+LSTM Models 1-3 and CNN Models 4-5 on Fashion-MNIST (Table 1's layer sizes).

    python examples/cnn_lstm_fmnist.py --model model1      # Adam 1e-3, batch 64, 10 epochs
    python examples/cnn_lstm_fmnist.py --model model4 --device gpu

The paper states neither optimizer nor epochs; these defaults are the PyTorch setting the papers'
README measured. The LSTM interpretation is in tinynet/models/cnn_lstm.py.
"""
from tinynet import data, nn, optim
from tinynet.models import CNNLSTM
from tinynet.models.cnn_lstm import CONFIGS

import example_cli  # examples/example_cli.py: flags, data and report shared by the scripts


def main(argv=None):
    args = example_cli.parser(__doc__.splitlines()[0], epochs=10, batch_size=64, lr=1e-3,
                              models=sorted(CONFIGS), default_model="model1").parse_args(argv)
    example_cli.setup(args, "cnn_lstm_fmnist")
    loaders = example_cli.load_data(args, transform=data.Compose(data.ScaleTo01(), data.AddChannel()))
    model = CNNLSTM(args.model).to(args.device)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    example_cli.run(args, model, nn.CrossEntropyLoss(), optimizer, loaders, title=f"Paper 001: CNN+LSTM {args.model}")


if __name__ == "__main__":
    main()
