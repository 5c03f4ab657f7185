"""The ``ember-vision`` command (also ``python -m ember_vision``).

Errors print one line on stderr: status 2 for the user's input (argparse's own errors
included), status 1 for a run that failed (training diverged, a model with non-finite
outputs, a file that could not be written); ``--debug`` shows the traceback instead.
"""
import argparse
import sys
import warnings

from .datasets.folder import UnreadableImageError
from .errors import RunFailure, UsageError

PROG = "ember-vision"
DISTRIBUTION = "ember-vision"
# NumPy's warnings when a kernel meets NaN or overflows (torch computes on silently); the
# command checks for non-finite losses and outputs itself and says what happened
NUMPY_FLOAT_WARNINGS = r"(invalid value|overflow|divide by zero) encountered"


def version():
    """The installed distribution's version; the package's own when it is not installed."""
    from importlib import metadata

    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # e.g. run from a source tree on sys.path
        from . import __version__

        return __version__


def _parser():
    from ._architectures import ARCHITECTURES, DEFAULT_ARCH
    from ._training_data import AUGMENTATIONS

    p = argparse.ArgumentParser(prog=PROG, description="Finetune and run torchvision's "
                                "classification models (ResNet-18 by default) on your images "
                                "with Ember (PyTorch-compatible, CPU).")
    p.add_argument("--version", action="version", version=f"{PROG} {version()}")
    sub = p.add_subparsers(dest="command", metavar="{finetune,predict}")

    ft = sub.add_parser(
        "finetune", help="train a new classifier on a pretrained model",
        description="Finetune a pretrained model (ResNet-18 unless --arch says otherwise) on "
        "a folder of images (one sub-folder per class) or, by default, on the embedded 8x8 "
        "handwritten digits (UCI) upscaled to RGB. Its classifier head is replaced by a new "
        "one for your classes, as torchvision's finetuning tutorial does.")
    ft.add_argument("--arch", default=DEFAULT_ARCH, metavar="NAME",
                    help="the model: " + ", ".join(ARCHITECTURES)
                    + f" (default: {DEFAULT_ARCH})")
    ft.add_argument("--data", metavar="DIR", help="image folder: DIR/<class>/<image> "
                    "(default: the embedded digits)")
    ft.add_argument("--weights", default="DEFAULT", metavar="DEFAULT|none|PATH",
                    help="start from the model's ImageNet weights (downloaded once, then "
                    "cached; another published name such as IMAGENET1K_V2 works too), random "
                    "ones, or a .pth file (default: DEFAULT)")
    ft.add_argument("--epochs", type=int, help="default: 30 with a frozen backbone (cheap: "
                    "its features are computed once), 2 when training the whole network")
    ft.add_argument("--batch-size", type=int, help="default: 64")
    ft.add_argument("--lr", type=float, help="SGD learning rate (momentum 0.9, cosine decay "
                    "over the epochs; default: 0.01)")
    group = ft.add_mutually_exclusive_group()
    group.add_argument("--freeze-backbone", dest="freeze", action="store_true", default=None,
                       help="train only the new head (default with pretrained weights)")
    group.add_argument("--train-all", dest="freeze", action="store_false",
                       help="train every layer (default with random weights)")
    ft.add_argument("--image-size", type=int, help="images are resized and centre-cropped "
                    "to this size (default for --data: the size the model's published weights "
                    "expect, 224, or 299 for inception_v3, resized first to 256 or 232 as "
                    "they are, scaled alike for other sizes; for the 8x8 digits 32, or 16 "
                    "when training the whole network, at least the model's minimum)")
    ft.add_argument("--augment", default="none", choices=list(AUGMENTATIONS),
                    metavar="NAME", help="random transform of the training images: "
                    "basic = RandomResizedCrop + RandomHorizontalFlip (the finetuning "
                    "recipe); trivialaugment, randaugment, autoaugment, augmix add that policy "
                    "after them; validation images keep the eval transform (default: none). "
                    "With a frozen backbone the features then change every epoch, so the "
                    "backbone runs on every epoch's images instead of once (slower)")
    ft.add_argument("--workers", type=int, metavar="N",
                    help="DataLoader threads that read and decode images while the model "
                    "computes; 0 loads in the training loop (default: min(2, CPUs))")
    ft.add_argument("--max-samples", type=int, help="use at most this many images")
    ft.add_argument("--out", default="ember-vision-out", metavar="DIR",
                    help="where model.pth, metrics.json and training.png go "
                    "(default: ./ember-vision-out)")
    ft.add_argument("--seed", type=int, default=0)
    ft.add_argument("--no-progress", dest="progress", action="store_false",
                    help="no progress bars")
    ft.add_argument("--debug", action="store_true", help="show tracebacks")

    pr = sub.add_parser("predict", help="top-5 classes of images",
                        description="Print the five most likely classes of each image.")
    pr.add_argument("--model", required=True, metavar="DIR",
                    help="a finetune --out folder, or DEFAULT for the ImageNet classifier")
    pr.add_argument("--arch", default=DEFAULT_ARCH, metavar="NAME",
                    help="with --model DEFAULT: whose ImageNet classifier (default: "
                    f"{DEFAULT_ARCH}); a finetune folder names its own")
    pr.add_argument("images", nargs="+", metavar="IMAGE")
    pr.add_argument("--debug", action="store_true", help="show tracebacks")
    return p


def _run(args):
    if args.command == "finetune":
        from .finetune import finetune

        finetune(data=args.data, weights=args.weights, epochs=args.epochs,
                 batch_size=args.batch_size, lr=args.lr, freeze_backbone=args.freeze,
                 image_size=args.image_size, out=args.out, seed=args.seed,
                 max_samples=args.max_samples, progress=args.progress, arch=args.arch,
                 augment=args.augment, workers=args.workers)
    else:
        from .predict import predict

        predict(args.model, args.images, arch=args.arch)


def _job():
    """(rank, size) of the running MPI job (``mpiexec -n N ember-vision ...``), or None."""
    dist = sys.modules.get("ember.distributed")
    if dist is None or not dist.is_initialized() or dist.get_world_size() < 2:
        return None
    return dist.get_rank(), dist.get_world_size()


def _fail(args, err, status):
    if args.debug:
        raise err  # uncaught: under mpiexec, ember.distributed's excepthook ends the job
    if getattr(err, "every_rank", False) and err.rank != 0:
        return status  # raised by every rank alike: rank 0 says it
    job = _job()
    if job is None:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return status
    # an error of one rank: the others may be waiting for it in a collective, so the
    # whole job ends here (an error every rank raised alike was printed once, by rank 0,
    # and the ranks left the process group: job is None then)
    print(f"{PROG}: error (rank {job[0]} of {job[1]}): {err}", file=sys.stderr, flush=True)
    from mpi4py import MPI

    MPI.COMM_WORLD.Abort(status)
    return status  # pragma: no cover (Abort does not return)


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            if not args.debug:  # non-finite numbers are reported in one line of our own
                warnings.filterwarnings("ignore", NUMPY_FLOAT_WARNINGS, RuntimeWarning)
            _run(args)
    except (UsageError, UnreadableImageError) as err:
        return _fail(args, err, 2)
    except (RunFailure, OSError) as err:  # e.g. diverged, or --out not writable
        return _fail(args, err, 1)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
