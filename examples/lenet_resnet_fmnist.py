"""Paper 003: LeNet-5, the 2-conv batch-norm net and ResNet-18 on Fashion-MNIST.

    python examples/lenet_resnet_fmnist.py --model lenet5           # Adam 1e-3, batch 64, 20 epochs
    python examples/lenet_resnet_fmnist.py --model conv2bn --device gpu
    python examples/lenet_resnet_fmnist.py --model resnet18 --device gpu --weights resnet18.npz

Paper 003's boosting by filtering (three nets) is examples/lenet_boosting.py.

As in the paper, 10 % of the training set is held out for validation and early stopping keeps the
best weights. ResNet-18 trains with random crops (padding 2) and horizontal flips, as the paper's
fine-tuning did. --weights loads any compatible state dict (.npz, PyTorch names).
"""
from tinynet import data, nn, optim
from tinynet.models import ResNet18, conv2_bn, lenet5
from tinynet.train import EarlyStopping

import example_cli  # examples/example_cli.py: flags, data and report shared by the scripts

MODELS = {"lenet5": lenet5, "conv2bn": conv2_bn, "resnet18": ResNet18}


def transforms(model_name):
    """(training transform, test transform): pixels / 255 with a channel axis; ResNet-18 also trains
    on random crops (padding 2) and horizontal flips."""
    plain = data.Compose(data.ScaleTo01(), data.AddChannel())
    if model_name != "resnet18":
        return plain, plain
    return data.Compose(plain, data.RandomCrop(28, 2), data.RandomHorizontalFlip()), plain


def main(argv=None):
    p = example_cli.parser(__doc__.splitlines()[0], epochs=20, batch_size=64, lr=1e-3, models=sorted(MODELS),
                           default_model="lenet5")
    p.add_argument("--weights", default=None, help="start from this state dict (.npz)")
    p.add_argument("--patience", type=int, default=5, help="early-stopping patience in epochs")
    args = p.parse_args(argv)
    example_cli.setup(args, "lenet_resnet_fmnist")
    train_transform, plain = transforms(args.model)
    loaders = example_cli.load_data(args, transform=train_transform, test_transform=plain, validation_fraction=0.1)
    model = MODELS[args.model]()
    if args.weights:
        example_cli.load_weights(model, args.weights)
    model.to(args.device)
    example_cli.run(args, model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=args.lr), loaders,
                    callbacks=[EarlyStopping("val_loss", patience=args.patience)], title=f"Paper 003: {args.model}")


if __name__ == "__main__":
    main()
