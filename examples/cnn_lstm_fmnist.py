"""Paper 001: CNN+LSTM Models 1-3 and CNN Models 4-5 on Fashion-MNIST (Table 1's layer sizes).

    python examples/cnn_lstm_fmnist.py --model model1      # Adam 1e-3, batch 64, 10 epochs
    python examples/cnn_lstm_fmnist.py --model model4 --device gpu

The paper states neither optimizer nor epochs; these defaults are the PyTorch setting the papers'
README measured. The LSTM interpretation is in tinynet/models/cnn_lstm.py.

The loop in ``main`` is the whole training: each epoch, train_one_epoch (tinynet/train.py: for
every batch forward, loss, zero_grad, backward, step), then the test set once at the end.
"""
import time

from tinynet import data, nn, optim
from tinynet.models import CNNLSTM
from tinynet.models.cnn_lstm import CONFIGS
from tinynet.train import evaluate, new_history, train_one_epoch

import example_cli  # examples/example_cli.py: flags, data and report shared by the scripts


def main(argv=None):
    args = example_cli.parser(__doc__.splitlines()[0], epochs=10, batch_size=64, lr=1e-3,
                              models=sorted(CONFIGS), default_model="model1").parse_args(argv)
    example_cli.setup(args, "cnn_lstm_fmnist")
    train_loader, _, test_loader, test_set = example_cli.load_data(
        args, transform=data.Compose(data.ScaleTo01(), data.AddChannel()))
    model = CNNLSTM(args.model).to(args.device)  # moved before the optimizer takes its parameters
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()  # log-softmax + NLL on the model's raw scores
    title = f"Paper 001: CNN+LSTM {args.model}"
    example_cli.announce(args, model, train_loader, title)

    history, started = new_history(), time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        done = train_one_epoch(model, loss_fn, optimizer, train_loader, example_cli.max_batches(args),
                               progress=example_cli.progress(args, train_loader, epoch))
        example_cli.end_epoch(args, history, epoch, done)

    result = evaluate(model, test_loader, loss_fn)
    example_cli.report(args, model, history, result, test_set, time.perf_counter() - started, title)


if __name__ == "__main__":
    main()
