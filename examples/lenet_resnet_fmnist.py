"""Paper 003: LeNet-5, the 2-conv batch-norm net and ResNet-18 on Fashion-MNIST.

    python examples/lenet_resnet_fmnist.py --model lenet5           # Adam 1e-3, batch 64, 20 epochs
    python examples/lenet_resnet_fmnist.py --model conv2bn --device gpu
    python examples/lenet_resnet_fmnist.py --model resnet18 --device gpu --weights resnet18.npz

Paper 003's boosting by filtering (three nets) is examples/lenet_boosting.py.

As in the paper, 10 % of the training set is held out for validation and early stopping keeps the
best weights. ResNet-18 trains with random crops (padding 2) and horizontal flips, as the paper's
fine-tuning did. --weights loads any compatible state dict (.npz, PyTorch names).

The loop in ``main``: each epoch, train_one_epoch (tinynet/train.py: for every batch forward, loss,
zero_grad, backward, step), the validation set, and the early-stopping decision.
"""
import time

from tinynet import data, nn, optim
from tinynet.models import ResNet18, conv2_bn, lenet5
from tinynet.train import EarlyStopping, evaluate, new_history, train_one_epoch

import example_cli  # examples/example_cli.py: flags, data and report shared by the scripts

MODELS = {"lenet5": lenet5, "conv2bn": conv2_bn, "resnet18": ResNet18}


def shift_and_flip():
    """A random 28x28 crop of the image padded by 2 (a shift of up to 2 pixels), then a random
    horizontal flip."""
    return data.Compose(data.RandomCrop(28, 2), data.RandomHorizontalFlip())


def augmented(transform):
    """``transform``, then shift_and_flip: a new variant of each pattern every time it is drawn."""
    return data.Compose(transform, shift_and_flip())


def transforms(model_name):
    """(training transform, test transform): pixels / 255 with a channel axis; ResNet-18 also trains
    on augmented patterns (random shifts and flips)."""
    plain = data.Compose(data.ScaleTo01(), data.AddChannel())
    return (augmented(plain) if model_name == "resnet18" else plain), plain


def main(argv=None):
    p = example_cli.parser(__doc__.splitlines()[0], epochs=20, batch_size=64, lr=1e-3, models=sorted(MODELS),
                           default_model="lenet5")
    p.add_argument("--weights", default=None, help="start from this state dict (.npz)")
    p.add_argument("--patience", type=int, default=5, help="early-stopping patience in epochs")
    args = p.parse_args(argv)
    example_cli.setup(args, "lenet_resnet_fmnist")
    train_transform, plain = transforms(args.model)
    train_loader, val_loader, test_loader, test_set = example_cli.load_data(
        args, transform=train_transform, test_transform=plain, validation_fraction=0.1)
    model = MODELS[args.model]()
    if args.weights:
        example_cli.load_weights(model, args.weights)
    model.to(args.device)  # before the optimizer takes the parameters
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    title = f"Paper 003: {args.model}"
    example_cli.announce(args, model, train_loader, title)

    early_stopping = EarlyStopping("val_loss", patience=args.patience)  # remembers the best epoch's weights
    early_stopping.on_train_begin(model, optimizer)
    history, started = new_history(), time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        done = train_one_epoch(model, loss_fn, optimizer, train_loader, example_cli.max_batches(args),
                               progress=example_cli.progress(args, train_loader, epoch))
        logs = example_cli.end_epoch(args, history, epoch, done, evaluate(model, val_loader, loss_fn))
        if early_stopping.on_epoch_end(epoch, logs, model, optimizer):  # no better val_loss for --patience epochs
            print(f"early stopping after epoch {epoch}")
            break
    early_stopping.on_train_end(model)  # back to the weights of the best validation loss

    result = evaluate(model, test_loader, loss_fn)
    example_cli.report(args, model, history, result, test_set, time.perf_counter() - started, title)


if __name__ == "__main__":
    main()
