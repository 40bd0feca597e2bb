"""The retrograd demo: an MLP learns Fashion-MNIST, and a report shows how.

    python examples/demo.py [--out runs/demo] [--epochs N] [--quiet] [--download]

The same as `retrograd demo` (``make demo`` runs this file). It trains a
784-256-128-10 ReLU network with Adam (learning rate 0.001 on a cosine
schedule, batches of 128, 10 epochs) on inputs standardised with the
training split's statistics, holds out 10% of the training images for
validation, scores the best epoch on the 10000 test images, and writes
into runs/demo:

    report.md / report.html   test accuracy, per-class precision and recall,
                              the epoch-by-epoch table and the configuration
    loss.png, accuracy.png    training against validation, per epoch
    confusion_matrix.png      which clothes are taken for which
    predictions.png           test images with their predicted labels
    best.safetensors          the weights (load with retrograd.io.load_checkpoint)

Fashion-MNIST is read from Debian's dataset-fashion-mnist package
(/usr/share/datasets/fashion-mnist), $RETROGRAD_DATA/fashion-mnist or the user
cache; without it the demo trains on scikit-learn's 8x8 digits and says why.
See retrograd/cli.py (`run_demo`, `run_training`) for the code, written with
the public API: retrograd.data, retrograd.models, retrograd.train and
retrograd.report.
"""

import sys

from retrograd.cli import main

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))
