#!/usr/bin/python3
"""Export a PyTorch model's features and tail as a dembench feature file.

The model runs in eval mode up to a cut point (a module name).  For each
task the inputs of the cut module are written as features, and the
modules from the cut on are converted to dembench layers (BatchNorm1d,
ReLU, Linear) and written as /model.  docs/bring-your-own-model.md is
the guide, docs/file-format.md the file format.

Nothing is downloaded: torchvision models are built with weights=None
and their weights are read from a local file.
"""

import argparse
import difflib
import math
import os
import re
import signal
import sys
import time

EXIT_RUNTIME = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_INTERRUPTED = 130

PROG = "export_features"

# ImageNet's channel means and standard deviations, the normalisation
# that torchvision's ImageNet weights expect.
IMAGENET_MEAN = "0.485,0.456,0.406"
IMAGENET_STD = "0.229,0.224,0.225"

# The 15 ImageNet-C corruptions (Hendrycks and Dietterich, ICLR 2019) in
# the order that data/fmnist-c.h5 streams them in continual runs
# (docs/fmnist-c.md).
IMAGENET_C_ORDER = [
    "gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur",
    "glass_blur", "motion_blur", "zoom_blur", "snow", "frost", "fog",
    "brightness", "contrast", "elastic_transform", "pixelate",
    "jpeg_compression",
]

# Tail modules that are the identity in eval mode on [N x D] features.
DROPPED_TYPES = {"Identity", "Dropout", "Dropout1d", "AlphaDropout",
                 "Flatten"}
# PyTorch module classes and the dembench layer types they become.
CONVERTED_TYPES = {"BatchNorm1d": "batchnorm", "ReLU": "relu",
                   "Linear": "linear"}

# Default cut points: the first of these top-level modules that the
# model has (torchvision: ResNet fc, VGG/MobileNet classifier, ViT heads).
DEFAULT_CUTS = ["fc", "classifier", "heads", "head"]

# Rows per feature chunk: at most 1024 rows and 1 MiB, as dembench's
# own writer chunks.
CHUNK_ROWS = 1024
CHUNK_BYTES = 1 << 20

torch = None        # imported in main(), after argparse handled --help


class ExportError(Exception):
    """An error with the exit code that it ends the program with."""

    def __init__(self, message, code=EXIT_INPUT):
        super().__init__(message)
        self.code = code


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived; the partial output is removed."""


def note(message):
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------
# Command line

USAGE_EPILOG = """\
tasks:
  --task NAME=PATH adds a task.  PATH is one of
    DIR            an image folder in torchvision ImageFolder layout,
                   DIR/CLASS/IMAGE; labels come from the class folders
    FILE.pt        torch.save() of a dict {"images": T, "labels": L}
                   with optional "classes": [names]
    FILE.npz       numpy.savez() with arrays images and labels
                   (and optional classes)
    FILE.npy       images only; labels from labels.npy in the same
                   folder (the CIFAR-10-C layout)
  A tensor file may end in @START:STOP to take rows START..STOP-1,
  for example CIFAR-10-C/fog.npy@40000:50000 for severity 5.
  Images in uint8 are pixels: [N,H,W,C] or [N,C,H,W] (or [N,H,W]),
  scaled to [0,1] and normalised with --mean and --std.  Float images
  are the model's input as they are, [N,C,H,W].
  A task named CORRUPTION_SEVERITY (fog_5) gets the attributes
  corruption=fog and severity=5.  --corruption-root DIR adds every
  DIR/CORRUPTION/SEVERITY folder (the ImageNet-C layout) as a task.

exit status: 0 written, 1 runtime failure, 2 usage error,
3 invalid model or data, 130 interrupted (no output is left).
"""


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="export_features.py",
        description="Run a PyTorch model up to a cut point on image "
        "tasks and write the\nfeatures, the labels and the layers after "
        "the cut as a dembench feature file.",
        epilog=USAGE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_options(p.add_argument_group("model"))
    add_data_options(p.add_argument_group("data"))
    add_run_options(p.add_argument_group("run"))
    args = p.parse_args(argv)
    check_args(p, args)
    return args


def add_model_options(group):
    group.add_argument("--arch", metavar="NAME",
                       help="torchvision architecture, e.g. resnet50 "
                       "(needs --weights)")
    group.add_argument("--weights", metavar="FILE",
                       help="local state dict for --arch (torch.save of "
                       "model.state_dict(), or a checkpoint dict with "
                       "'state_dict' or 'model')")
    group.add_argument("--num-classes", type=int, metavar="N",
                       help="outputs of --arch (default: read from "
                       "the weights)")
    group.add_argument("--torchscript", metavar="FILE",
                       help="a TorchScript model (torch.jit.save); its "
                       "forward must apply its top-level modules in order")
    group.add_argument("--cut", metavar="MODULE",
                       help="the first module of the tail; its input is "
                       "the feature (default: the first of "
                       + ", ".join(DEFAULT_CUTS) + " that exists)")
    group.add_argument("--add-bn", metavar="SOURCE",
                       help="insert a BatchNorm1d over the features, "
                       "with running statistics from the source images "
                       "in SOURCE (a folder or a tensor file)")
    group.add_argument("--add-bn-limit", type=int, default=0, metavar="N",
                       help="use a random subset of N source images "
                       "(seed 0; default 0: all)")
    group.add_argument("--add-bn-eps", type=float, default=1e-5,
                       metavar="X", help="eps of the inserted BatchNorm "
                       "(default 1e-5)")


def add_data_options(group):
    group.add_argument("--task", action="append", default=[],
                       metavar="NAME=PATH", help="a task (repeat)")
    group.add_argument("--corruption-root", metavar="DIR",
                       help="add DIR/CORRUPTION/SEVERITY folders as tasks")
    group.add_argument("--severities", metavar="LIST",
                       help="with --corruption-root, only these "
                       "severities, e.g. 5 or 1,2,3 (default: all)")
    group.add_argument("--classes", metavar="FILE",
                       help="class names in class-id order, one a line; "
                       "for image folders, the class folder names "
                       "(default: the sorted folders of the first folder "
                       "task)")
    group.add_argument("--resize", type=int, default=256, metavar="N",
                       help="resize the shorter side of folder images to "
                       "N pixels, 0 to keep (default 256)")
    group.add_argument("--crop", type=int, default=224, metavar="N",
                       help="centre crop of N x N pixels, 0 for none "
                       "(default 224)")
    group.add_argument("--grayscale", action="store_true",
                       help="read folder images as one channel (default "
                       "RGB)")
    group.add_argument("--mean", default=IMAGENET_MEAN, metavar="M,...",
                       help="per-channel mean subtracted from pixels in "
                       "[0,1] (default ImageNet's)")
    group.add_argument("--std", default=IMAGENET_STD, metavar="S,...",
                       help="per-channel standard deviation (default "
                       "ImageNet's)")


def add_run_options(group):
    group.add_argument("--out", required=True, metavar="FILE.h5",
                       help="the feature file to write (atomically)")
    group.add_argument("--batch-size", type=int, default=64, metavar="N",
                       help="images per forward pass (default 64)")
    group.add_argument("--workers", type=int,
                       default=min(4, os.cpu_count() or 1), metavar="N",
                       help="image decoding processes, 0 to decode in the "
                       "main process (default: up to 4)")
    group.add_argument("--device", default=None, metavar="DEV",
                       help="torch device (default: cuda if available, "
                       "else cpu)")
    group.add_argument("--description", metavar="TEXT",
                       help="the file's description attribute (default: "
                       "the model, the cut and this command)")


def check_args(p, args):
    """Reject option combinations that argparse cannot express."""
    if bool(args.arch) == bool(args.torchscript):
        p.error("give either --arch NAME with --weights FILE, or "
                "--torchscript FILE")
    if args.arch and not args.weights:
        p.error("--arch needs --weights FILE (a local state dict; "
                "nothing is downloaded)")
    if args.weights and not args.arch:
        p.error("--weights needs --arch NAME")
    if not args.task and not args.corruption_root:
        p.error("no task: give --task NAME=PATH or --corruption-root DIR")
    if args.severities and not args.corruption_root:
        p.error("--severities needs --corruption-root")
    for name, value, low in (("--batch-size", args.batch_size, 1),
                             ("--workers", args.workers, 0),
                             ("--resize", args.resize, 0),
                             ("--crop", args.crop, 0),
                             ("--add-bn-limit", args.add_bn_limit, 0)):
        if value < low:
            p.error(f"{name}: invalid value {value}; expected a whole "
                    f"number >= {low}")
    if args.num_classes is not None and args.num_classes < 1:
        p.error(f"--num-classes: invalid value {args.num_classes}; "
                "expected 1 or more")
    if not (args.add_bn_eps > 0 and math.isfinite(args.add_bn_eps)):
        p.error(f"--add-bn-eps: invalid value {args.add_bn_eps}; "
                "expected a number > 0")
    try:
        args.mean = [float(v) for v in args.mean.split(",")]
        args.std = [float(v) for v in args.std.split(",")]
    except ValueError:
        p.error("--mean and --std: expected numbers separated by commas")
    if len(args.mean) != len(args.std) or min(args.std) <= 0:
        p.error("--mean and --std: expected as many means as standard "
                "deviations, each deviation > 0")
    channels = (1,) if args.grayscale else (1, 3)
    if len(args.mean) not in channels:
        p.error(f"--mean and --std: {len(args.mean)} values; expected "
                + ("1 with --grayscale" if args.grayscale else "1 or 3"))


# ---------------------------------------------------------------------
# Task list

def task_attrs(name):
    """Return (corruption, severity) for a NAME_SEVERITY task name."""
    m = re.fullmatch(r"(.+)_([0-9]+)", name)
    if m and int(m.group(2)) < 2 ** 31:
        return m.group(1), int(m.group(2))
    return None, None


def parse_severities(text):
    try:
        values = {int(v) for v in re.split(r"[ ,]+", text.strip())}
    except ValueError:
        raise ExportError(f"--severities: invalid list '{text}'; expected "
                          "whole numbers such as 5 or 1,2,3", EXIT_USAGE)
    return values


def corruption_tasks(root, severities):
    """List ImageNet-C style folders as (name, path, corruption, severity).

    Tasks are ordered severity-major: every corruption at the lowest
    severity, then the next, with the 15 ImageNet-C corruptions in their
    usual order and other corruptions after them alphabetically.
    """
    if not os.path.isdir(root):
        raise ExportError(f"{root}: --corruption-root is not a folder")
    found = []
    for corruption in sorted(os.listdir(root)):
        cdir = os.path.join(root, corruption)
        if not os.path.isdir(cdir):
            continue
        for level in os.listdir(cdir):
            if not (level.isdigit() and os.path.isdir(
                    os.path.join(cdir, level))):
                continue
            if severities and int(level) not in severities:
                continue
            found.append((corruption, int(level)))
    if not found:
        raise ExportError(f"{root}: no CORRUPTION/SEVERITY folders "
                          "found; expected the ImageNet-C layout, e.g. "
                          f"{root}/fog/5/CLASS/IMAGE")

    def rank(item):
        corruption, level = item
        known = corruption in IMAGENET_C_ORDER
        position = IMAGENET_C_ORDER.index(corruption) if known else 0
        return (level, not known, position, corruption)
    return [(f"{c}_{s}", os.path.join(root, c, str(s)), c, s)
            for c, s in sorted(found, key=rank)]


def collect_tasks(args):
    """Return the tasks as dicts with name, path, corruption, severity."""
    tasks = []
    for spec in args.task:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise ExportError(f"--task: invalid value '{spec}'; expected "
                              "NAME=PATH", EXIT_USAGE)
        if "/" in name or name in (".", ".."):
            raise ExportError(f"--task: invalid task name '{name}'; a "
                              "name may not contain '/'", EXIT_USAGE)
        corruption, severity = task_attrs(name)
        tasks.append(dict(name=name, path=path, corruption=corruption,
                          severity=severity))
    if args.corruption_root:
        severities = (parse_severities(args.severities)
                      if args.severities else None)
        for name, path, c, s in corruption_tasks(args.corruption_root,
                                                 severities):
            tasks.append(dict(name=name, path=path, corruption=c,
                              severity=s))
    seen = set()
    for t in tasks:
        if t["name"] in seen:
            raise ExportError(f"task '{t['name']}' is given twice; task "
                              "names must be unique", EXIT_USAGE)
        seen.add(t["name"])
    return tasks


# ---------------------------------------------------------------------
# Images

def image_files(folder):
    """Return the sorted image files under folder, at any depth."""
    from torchvision.datasets.folder import IMG_EXTENSIONS
    files = []
    for parent, dirs, names in os.walk(folder, followlinks=True):
        dirs.sort()
        for n in sorted(names):
            if n.lower().endswith(IMG_EXTENSIONS):
                files.append(os.path.join(parent, n))
    return files


def check_folder(folder):
    if not os.path.isdir(folder):
        raise ExportError(f"{folder}: no such folder or tensor file; "
                          "expected an image folder DIR/CLASS/IMAGE or a "
                          ".pt, .npz or .npy file")


def class_folders(folder):
    """Return the sorted names of the subfolders of an image folder."""
    check_folder(folder)
    return sorted(e.name for e in os.scandir(folder) if e.is_dir())


def split_rows(path):
    """Split FILE@START:STOP into (FILE, slice); (path, None) without @."""
    m = re.fullmatch(r"(.*\.(?:pt|pth|npz|npy))@(\d*):(\d*)", path)
    if not m:
        return path, None
    start = int(m.group(2)) if m.group(2) else None
    stop = int(m.group(3)) if m.group(3) else None
    return m.group(1), slice(start, stop)


def is_tensor_path(path):
    return split_rows(path)[0].endswith((".pt", ".pth", ".npz", ".npy"))


def load_tensor_file(path, need_labels=True):
    """Load a tensor task file; return (images, labels or None, classes)."""
    import numpy as np
    file, rows = split_rows(path)
    if not os.path.isfile(file):
        raise ExportError(f"{file}: no such tensor file")
    classes = None
    try:
        if file.endswith(".npy"):
            images = np.load(file, mmap_mode="r")
            labels_file = os.path.join(os.path.dirname(file), "labels.npy")
            labels = None
            if os.path.isfile(labels_file):
                labels = np.load(labels_file)
            elif need_labels:
                raise ExportError(f"{file}: no labels.npy beside it; a "
                                  ".npy task needs its labels in "
                                  f"{labels_file}, or use a .pt or .npz "
                                  "file with images and labels")
        elif file.endswith(".npz"):
            z = np.load(file)
            images = z["images"] if "images" in z else None
            labels = z["labels"] if "labels" in z else None
            if "classes" in z:
                classes = [str(c) for c in z["classes"]]
        else:
            d = torch.load(file, map_location="cpu", weights_only=True)
            if not isinstance(d, dict):
                raise ExportError(f"{file}: contains a {type(d).__name__}; "
                                  "expected a dict with 'images' and "
                                  "'labels' tensors")
            images, labels = d.get("images"), d.get("labels")
            if d.get("classes") is not None:
                classes = [str(c) for c in d["classes"]]
    except ExportError:
        raise
    except Exception as e:
        raise ExportError(f"{file}: cannot be read ({e})")
    if images is None or (need_labels and labels is None):
        raise ExportError(f"{file}: missing 'images' or 'labels'; expected "
                          "both (docs/bring-your-own-model.md)")
    if rows is not None:
        images = images[rows]
        labels = labels[rows] if labels is not None else None
    images = as_tensor(images, file, "images")
    labels = as_tensor(labels, file, "labels") if labels is not None \
        else None
    check_tensor_shapes(file, images, labels)
    return images, labels, classes


def as_tensor(a, file, what):
    """Convert a numpy array to a tensor; integer labels become int64.

    The array is copied, because a memory-mapped one is read-only.
    """
    import numpy as np
    if torch.is_tensor(a):
        return a
    a = np.array(a)
    if what == "labels" and a.dtype.kind in "iu":
        a = a.astype(np.int64)
    try:
        return torch.from_numpy(a)
    except TypeError:
        raise ExportError(f"{file}: {what} of type {a.dtype}; expected "
                          + ("integer class ids" if what == "labels" else
                             "uint8 pixels or float model input"))


def check_tensor_shapes(file, images, labels):
    if images.dim() not in (3, 4) or images.shape[0] == 0:
        raise ExportError(f"{file}: images of shape {list(images.shape)}; "
                          "expected [N,C,H,W], [N,H,W,C] or [N,H,W] with "
                          "N >= 1")
    if images.dtype != torch.uint8 and not images.is_floating_point():
        raise ExportError(f"{file}: images of type {images.dtype}; "
                          "expected uint8 pixels or float model input")
    if labels is None:
        return
    if labels.dim() != 1 or labels.shape[0] != images.shape[0]:
        raise ExportError(f"{file}: labels of shape {list(labels.shape)}; "
                          f"expected [{images.shape[0]}], one per image")
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise ExportError(f"{file}: labels of type {labels.dtype}; "
                          "expected integer class ids")


def pixels_to_input(images, mean, std):
    """Turn uint8 pixels into normalised float [N,C,H,W] model input."""
    if images.dim() == 3:
        images = images.unsqueeze(1)
    if images.dtype != torch.uint8:
        return images.float()
    if images.shape[-1] in (1, 3) and images.shape[1] not in (1, 3):
        images = images.permute(0, 3, 1, 2)
    x = images.float() / 255
    c = x.shape[1]
    if len(mean) not in (1, c):
        raise ExportError(f"--mean has {len(mean)} values but the images "
                          f"have {c} channels", EXIT_USAGE)
    m = torch.tensor(mean).view(1, -1, 1, 1)
    s = torch.tensor(std).view(1, -1, 1, 1)
    return (x - m) / s


def image_transform(args):
    import torchvision.transforms as T
    steps = []
    if args.resize:
        steps.append(T.Resize(args.resize))
    if args.crop:
        steps.append(T.CenterCrop(args.crop))
    steps += [T.ToTensor(), T.Normalize(args.mean, args.std)]
    return T.Compose(steps)


def make_image_list(files, labels, transform, grayscale):
    from PIL import Image

    class Images(torch.utils.data.Dataset):
        def __len__(self):
            return len(files)

        def __getitem__(self, i):
            with open(files[i], "rb") as fp:
                img = Image.open(fp)
                img = img.convert("L" if grayscale else "RGB")
            return transform(img), labels[i]
    return Images()


def quiet_worker(worker_id):
    """Ignore SIGINT and SIGTERM in an image decoding worker.

    The main process handles them and stops the workers.  A worker that
    died first would make the DataLoader raise its own error in place of
    the interruption.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


class TaskSource:
    """The images and labels of one task, read in batches."""

    def __init__(self, path, args, class_index, need_labels=True):
        self.path = path
        self.args = args
        self.tensors = None
        self.files = None
        if is_tensor_path(path):
            images, labels, self.classes = load_tensor_file(path,
                                                            need_labels)
            self.tensors = (images, labels)
            self.n = images.shape[0]
        else:
            self.classes = None
            self._list_folder(class_index, need_labels)

    def _list_folder(self, class_index, need_labels):
        path = self.path
        files, labels = [], []
        if need_labels:
            for name in class_folders(path):
                if name not in class_index:
                    raise ExportError(
                        f"{path}/{name}: class folder not in the class "
                        "list; every task must use the class folders of "
                        "the first folder task, or those in --classes")
                found = image_files(os.path.join(path, name))
                files += found
                labels += [class_index[name]] * len(found)
        else:
            check_folder(path)
            files = image_files(path)
            labels = [0] * len(files)
        if not files:
            raise ExportError(f"{path}: no image files found; expected "
                              f"{path}/CLASS/IMAGE (.jpg, .png, ...)")
        self.files, self.labels = files, labels
        self.n = len(files)

    def subset(self, limit):
        """Keep a random subset of limit samples (seed 0)."""
        if not limit or limit >= self.n:
            return
        g = torch.Generator().manual_seed(0)
        keep = torch.randperm(self.n, generator=g)[:limit].sort().values
        if self.tensors:
            images, labels = self.tensors
            self.tensors = (images[keep],
                            labels[keep] if labels is not None else None)
        else:
            self.files = [self.files[i] for i in keep.tolist()]
            self.labels = [self.labels[i] for i in keep.tolist()]
        self.n = limit

    def batches(self):
        """Yield (inputs float [B,C,H,W], labels int64 [B]) in order."""
        bs = self.args.batch_size
        if self.tensors:
            images, labels = self.tensors
            for i in range(0, self.n, bs):
                x = pixels_to_input(images[i:i + bs], self.args.mean,
                                    self.args.std)
                y = (labels[i:i + bs].long() if labels is not None
                     else torch.zeros(x.shape[0], dtype=torch.long))
                yield x, y
            return
        data = make_image_list(self.files, self.labels,
                               image_transform(self.args),
                               self.args.grayscale)
        loader = torch.utils.data.DataLoader(
            data, batch_size=bs, shuffle=False,
            num_workers=self.args.workers, worker_init_fn=quiet_worker)
        try:
            for x, y in loader:
                yield x, y.long()
        except ExportError:
            raise
        except Exception as e:
            raise ExportError(f"{self.path}: an image cannot be read "
                              f"({e})")


def read_class_list(args, tasks):
    """Return (class names or None, where they came from)."""
    if args.classes:
        try:
            with open(args.classes, encoding="utf-8") as fp:
                names = [line.strip() for line in fp]
        except OSError as e:
            raise ExportError(f"{args.classes}: cannot be read "
                              f"({e.strerror})")
        while names and not names[-1]:
            names.pop()
        if not names or "" in names or len(set(names)) != len(names):
            raise ExportError(f"{args.classes}: expected one unique, "
                              "non-empty class name a line")
        return names, args.classes
    for t in tasks:
        if not is_tensor_path(t["path"]):
            names = class_folders(t["path"])
            if not names:
                raise ExportError(f"{t['path']}: no class folders; "
                                  f"expected {t['path']}/CLASS/IMAGE")
            return names, f"the class folders of {t['path']}"
    return None, None


# ---------------------------------------------------------------------
# Model

def load_state_dict(path):
    if not os.path.isfile(path):
        raise ExportError(f"{path}: no such weights file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ExportError(f"{path}: not a state dict that torch.load can "
                          f"read with weights_only=True ({e}); save "
                          "model.state_dict() with torch.save, or the "
                          "model with torch.jit.save for --torchscript")
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(
            torch.is_tensor(v) for v in state.values()):
        raise ExportError(f"{path}: not a state dict of tensors; save "
                          "model.state_dict() with torch.save")
    # nn.DataParallel and DistributedDataParallel prefix every name.
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def build_torchvision(args):
    import torchvision
    names = torchvision.models.list_models()
    if args.arch not in names:
        close = difflib.get_close_matches(args.arch, names, 5)
        hint = f"; close names: {', '.join(close)}" if close else ""
        raise ExportError(f"--arch: unknown torchvision model "
                          f"'{args.arch}'{hint}", EXIT_USAGE)
    state = load_state_dict(args.weights)
    num_classes = args.num_classes
    model = torchvision.models.get_model(args.arch, weights=None)
    if num_classes is None:
        last = [n for n, m in model.named_modules()
                if isinstance(m, torch.nn.Linear)]
        w = state.get(last[-1] + ".weight") if last else None
        if w is not None and w.dim() == 2:
            num_classes = w.shape[0]
    if num_classes is not None:
        model = torchvision.models.get_model(args.arch, weights=None,
                                             num_classes=num_classes)
    check_state_fits(model, state, args)
    model.load_state_dict(state)
    return model


def check_state_fits(model, state, args):
    """Reject a state dict whose names or shapes differ from the model's,
    listing a few of each kind of difference."""
    own = model.state_dict()
    problems = []
    for what, names in (
            # Old checkpoints lack BatchNorm's num_batches_tracked,
            # which load_state_dict() accepts.
            ("missing", [k for k in own if k not in state and
                         not k.endswith("num_batches_tracked")]),
            ("unexpected", [k for k in state if k not in own]),
            ("of another shape", [k for k in own if k in state and
                                  own[k].shape != state[k].shape])):
        if names:
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            problems.append(f"{len(names)} {what} ({', '.join(names[:3])}"
                            f"{more})")
    if problems:
        raise ExportError(f"{args.weights}: does not fit torchvision "
                          f"{args.arch}: tensors " + "; ".join(problems)
                          + "; check --arch and --num-classes")


def load_torchscript(path):
    if not os.path.isfile(path):
        raise ExportError(f"{path}: no such TorchScript file")
    try:
        return torch.jit.load(path, map_location="cpu")
    except Exception as e:
        raise ExportError(f"{path}: not a TorchScript file ({e}); save "
                          "the model with torch.jit.save(torch.jit."
                          "script(model)), or give a state dict with "
                          "--arch and --weights")


def module_type(m):
    """Return the class name of an eager or a TorchScript module."""
    return getattr(m, "original_name", None) or type(m).__name__


def default_cut(model, where):
    children = [n for n, _ in model.named_children()]
    for name in DEFAULT_CUTS:
        if name in children:
            return name
    raise ExportError(f"{where}: none of {', '.join(DEFAULT_CUTS)} is a "
                      "top-level module; give --cut, one of: "
                      + ", ".join(children))


def find_module(model, name, where):
    modules = dict(model.named_modules())
    if name not in modules or not name:
        close = difflib.get_close_matches(name, list(modules), 5)
        hint = f"; close names: {', '.join(close)}" if close else ""
        raise ExportError(f"{where}: no module '{name}'{hint}; the "
                          "top-level modules are: "
                          + ", ".join(n for n, _ in model.named_children()))
    return modules[name]


class EagerSplit:
    """Run an nn.Module and catch the input of the cut module.

    The tail is every leaf module that the first forward pass calls
    from the cut module on, in call order.  Operations written in
    forward() are invisible here, so each batch is also checked against
    the model's own output (check_tail).
    """

    def __init__(self, model, cut):
        self.model = model
        self.cut = cut
        self.check_next = True      # unused: every batch is checked
        self.captured = []
        self.calls = None
        find_module(model, cut, "--cut").register_forward_pre_hook(
            self._capture)

    def _capture(self, module, inputs):
        self.captured.append(inputs[0] if inputs else None)
        if self.calls is not None:
            self.calls.append(None)     # marks where the tail starts

    def trace_tail(self, x):
        """Run one batch and return the tail as [(name, module)]."""
        self.calls = []
        handles = []
        for name, m in self.model.named_modules():
            if not any(True for _ in m.children()):
                handles.append(m.register_forward_hook(
                    lambda m, i, o, name=name: self.calls.append(name)))
        try:
            self.forward(x)
        finally:
            for h in handles:
                h.remove()
        calls, self.calls = self.calls, None
        modules = dict(self.model.named_modules())
        start = calls.index(None) + 1
        return [(n, modules[n]) for n in calls[start:]]

    def forward(self, x):
        """Return (features, the model's output) for one batch."""
        self.captured.clear()
        out = self.model(x)
        if len(self.captured) != 1:
            raise ExportError(f"--cut {self.cut}: the module ran "
                              f"{len(self.captured)} times in one forward "
                              "pass; expected once")
        return self.captured[0], out


class SequentialSplit:
    """Run a TorchScript model as its top-level modules in sequence.

    TorchScript modules take no hooks, so the front is the sequence of
    modules before the cut.  A Sequential named in the cut (head.0) is
    opened up.  The first batch of each task is checked against the
    whole model, because running it doubles the cost of the batch.
    """

    def __init__(self, model, cut, path):
        self.model = model
        self.path = path
        self.cut = cut
        find_module(model, cut, "--cut")
        self.front, self.tail = self._split(model, cut.split("."), "")

    def _split(self, parent, parts, prefix):
        front, tail = [], []
        found = False
        for name, m in parent.named_children():
            full = prefix + name
            if found:
                tail += self._open(m, full)
            elif name == parts[0] and len(parts) == 1:
                found = True
                tail += self._open(m, full)
            elif name == parts[0]:
                if module_type(m) != "Sequential":
                    raise ExportError(
                        f"--cut {prefix}{'.'.join(parts)}: {full} is a "
                        f"{module_type(m)}, and in a TorchScript model "
                        "only a Sequential can be cut inside; cut at "
                        f"{full} or a top-level module")
                f, t = self._split(m, parts[1:], full + ".")
                front += f
                tail += t
                found = True
            else:
                front.append((full, m))
        return front, tail

    def _open(self, m, name):
        """List a module, or the modules of a Sequential, as the tail."""
        if module_type(m) != "Sequential":
            return [(name, m)]
        out = []
        for child, c in m.named_children():
            out += self._open(c, f"{name}.{child}")
        return out

    def trace_tail(self, x):
        return self.tail

    def forward(self, x):
        """Return the features and, when check_next is set, the whole
        model's output, which check_tail() compares with the tail's."""
        h = x
        for _, m in self.front:
            h = m(h)
        out = self.model(x) if self.check_next else None
        self.check_next = False
        return h, out

    check_next = True


# ---------------------------------------------------------------------
# Tail conversion

def numpy32(t):
    return t.detach().cpu().float().numpy().copy()


def convert_tail(modules, width, where):
    """Convert [(name, module)] to dembench layers for features of width.

    Each layer is a dict with type, name and its arrays.  Raises
    ExportError naming the first module that dembench cannot run.
    """
    import numpy as np
    check_tail_types(modules, where)
    layers = []
    for name, m in modules:
        kind = module_type(m)
        if kind in DROPPED_TYPES:
            check_dropped(name, m, kind)
            note(f"tail: {name} ({kind}) is the identity in eval mode "
                 "on [N x D] features; dropped")
            continue
        layer = dict(type=CONVERTED_TYPES[kind], name=name)
        if kind == "BatchNorm1d":
            layer.update(convert_batchnorm(name, m, width, where))
        elif kind == "Linear":
            w = numpy32(m.weight)
            if w.shape[1] != width:
                raise ExportError(f"{where}: tail module '{name}' takes "
                                  f"{w.shape[1]} inputs, but {width} "
                                  "arrive; the cut is not where the "
                                  "features enter it")
            b = (numpy32(m.bias) if m.bias is not None
                 else np.zeros(w.shape[0], np.float32))
            layer.update(weight=w, bias=b)
            width = w.shape[0]
        layers.append(layer)
    if not any(l["type"] == "linear" for l in layers):
        raise ExportError(f"{where}: the tail has no Linear layer, so it "
                          "does not produce class scores; the cut must "
                          "come before the classifier")
    for layer in layers:
        for key, value in layer.items():
            if hasattr(value, "shape") and not np.isfinite(value).all():
                raise ExportError(f"{where}: tail module "
                                  f"'{layer['name']}': {key} has NaN or "
                                  "Inf values")
    return layers


def check_tail_types(modules, where):
    """Reject the first tail module that dembench cannot run, by name."""
    for name, m in modules:
        kind = module_type(m)
        if kind in DROPPED_TYPES or kind in CONVERTED_TYPES:
            continue
        hint = (" dembench applies the softmax itself, so remove it "
                "from the model;" if "Softmax" in kind else "")
        raise ExportError(
            f"{where}: tail module '{name}' ({kind}) is a layer that "
            "dembench cannot run; the tail may contain only BatchNorm1d, "
            "ReLU and Linear (Flatten, Identity and Dropout are dropped);"
            f"{hint} move --cut after '{name}' or change the model")


def check_dropped(name, m, kind):
    if kind == "Flatten" and (getattr(m, "start_dim", 1) not in (1, -1) or
                              getattr(m, "end_dim", -1) not in (1, -1)):
        raise ExportError(f"tail module '{name}' is a Flatten over "
                          f"dimensions {m.start_dim}..{m.end_dim}, which "
                          "changes [N x D] features; dembench cannot run "
                          "it")


def convert_batchnorm(name, m, width, where):
    import numpy as np
    if m.running_mean is None or m.running_var is None:
        raise ExportError(f"{where}: tail module '{name}' is a "
                          "BatchNorm1d without running statistics "
                          "(track_running_stats=False); dembench needs "
                          "them for the source model")
    if m.running_mean.shape[0] != width:
        raise ExportError(f"{where}: tail module '{name}' normalises "
                          f"{m.running_mean.shape[0]} features, but "
                          f"{width} arrive")
    if not float(m.eps) > 0:
        raise ExportError(f"{where}: tail module '{name}' has eps "
                          f"{m.eps}; dembench needs eps > 0, because a "
                          "batch can have zero variance in a feature")
    var = numpy32(m.running_var)
    bad = np.flatnonzero(~(var > 0))
    if bad.size:
        raise ExportError(f"{where}: tail module '{name}': running_var"
                          f"[{bad[0]}] is {var[bad[0]]}; dembench needs "
                          "positive variances, so set such entries to a "
                          "small positive value before exporting")
    one = np.ones(width, np.float32)
    return dict(
        running_mean=numpy32(m.running_mean), running_var=var,
        weight=numpy32(m.weight) if m.weight is not None else one,
        bias=numpy32(m.bias) if m.bias is not None else 0 * one,
        eps=float(m.eps))


def tail_forward(layers, x, magnitude=False):
    """Run the converted tail in float64 numpy, as dembench's NoAdapt does.

    With magnitude=True, every operand is replaced by its absolute
    value, which gives the scale of the terms summed into each output:
    the float32 rounding error of an output grows with it.
    """
    import numpy as np
    f = np.abs if magnitude else (lambda a: a)
    h = x.astype(np.float64)
    h = f(h)
    for l in layers:
        if l["type"] == "batchnorm":
            scale = f(l["weight"]) / np.sqrt(
                l["running_var"].astype(np.float64) + l["eps"])
            if magnitude:
                h = (h + f(l["running_mean"])) * scale + f(l["bias"])
            else:
                h = (h - l["running_mean"]) * scale + l["bias"]
        elif l["type"] == "relu":
            h = h if magnitude else np.maximum(h, 0)
        else:
            h = h @ f(l["weight"].T.astype(np.float64)) + f(l["bias"])
    return h


def check_tail(layers, features, out, where):
    """Check that the converted tail gives the model's output.

    Each output may differ by 1e-4 of the magnitude of the terms summed
    into it.  That covers float32 rounding and the folding of an added
    BatchNorm, while an operation in forward() that the tail misses
    changes outputs by far more.  Returns the largest difference.
    """
    import numpy as np
    if not torch.is_tensor(out) or out.dim() != 2:
        raise ExportError(f"{where}: the model's output is not a [N x C] "
                          "tensor, so the tail cannot be checked against "
                          "it")
    want = out.detach().cpu().double().numpy()
    got = tail_forward(layers, features)
    if got.shape != want.shape:
        raise ExportError(f"{where}: the tail gives {list(got.shape)} "
                          f"outputs, the model {list(want.shape)}")
    diff = np.abs(got - want)
    limit = 1e-4 * (1 + tail_forward(layers, features, magnitude=True))
    worst = np.unravel_index(np.argmax(diff - limit), diff.shape)
    if not diff[worst] <= limit[worst]:
        raise ExportError(f"{where}: the converted tail differs from the "
                          f"model's output by {diff[worst]:.3g} (allowed "
                          f"{limit[worst]:.3g}) at row {worst[0]}, output "
                          f"{worst[1]}; forward() applies operations "
                          "between or after the tail's modules that are "
                          "not modules (torch.flatten, F.softmax, ...), "
                          "so move --cut to where only modules follow")
    return float(diff.max())


def add_batchnorm(layers, mean, var, eps, where):
    """Insert a BatchNorm1d before the tail, folded into its Linear.

    The new layer has weight 1, bias 0 and the source statistics, so
    that BN adaptation has parameters to adapt.  The first Linear
    absorbs the normalisation, W' = W sqrt(var + eps) and
    b' = b + W mean, so that the exported model computes the logits of
    the original one.
    """
    import numpy as np
    first = layers[0]
    if first["type"] != "linear":
        raise ExportError(f"{where}: --add-bn needs a tail that starts "
                          "with a Linear layer, which absorbs the source "
                          f"statistics; it starts with '{first['name']}' "
                          f"({first['type']})")
    scale = np.sqrt(var.astype(np.float64) + eps)
    w = first["weight"].astype(np.float64)
    first["bias"] = (first["bias"] + w @ mean.astype(np.float64)
                     ).astype(np.float32)
    first["weight"] = (w * scale).astype(np.float32)
    width = mean.shape[0]
    bn = dict(type="batchnorm", name="(added)",
              running_mean=mean.astype(np.float32),
              running_var=var.astype(np.float32),
              weight=np.ones(width, np.float32),
              bias=np.zeros(width, np.float32), eps=eps)
    return [bn] + layers


class RunningMoments:
    """Mean and variance of feature rows in float64.

    Each batch's mean and sum of squared deviations are merged into the
    running ones, which avoids the cancellation of a plain sum of
    squares when a feature's mean is large against its spread.
    """

    def __init__(self):
        self.n = 0
        self.mean = None
        self.m2 = None

    def add(self, x):
        x = x.astype("float64")
        n, mean = x.shape[0], x.mean(axis=0)
        m2 = ((x - mean) ** 2).sum(axis=0)
        if self.n == 0:
            self.n, self.mean, self.m2 = n, mean, m2
            return
        total = self.n + n
        delta = mean - self.mean
        self.mean = self.mean + delta * n / total
        self.m2 = self.m2 + m2 + delta ** 2 * self.n * n / total
        self.n = total

    def variance(self):
        """Return the unbiased variance, which BatchNorm's running_var
        estimates."""
        return self.m2 / max(self.n - 1, 1)


# ---------------------------------------------------------------------
# Running the model

class Progress:
    """Progress of one task on stderr: redrawn on a terminal, else one
    line every 10 seconds."""

    def __init__(self, label, total):
        self.label, self.total = label, total
        self.done = 0
        self.start = self.last = time.monotonic()
        self.tty = sys.stderr.isatty()

    def add(self, n):
        self.done += n
        now = time.monotonic()
        if self.done < self.total and now - self.last < (
                0.5 if self.tty else 10):
            return
        self.last = now
        rate = self.done / max(now - self.start, 1e-9)
        left = (self.total - self.done) / rate if rate else 0
        text = (f"{self.label}: {self.done}/{self.total} images, "
                f"{rate:.0f} images/s, {left:.0f} s left")
        if self.tty:
            end = "\n" if self.done >= self.total else ""
            print(f"\r{PROG}: {text}\033[K", end=end, file=sys.stderr,
                  flush=True)
        else:
            note(text)


def check_features(feats, split, cut):
    """Reject features that are not [N x D], with the likely cause."""
    if torch.is_tensor(feats) and feats.dim() == 2:
        return
    shape = list(feats.shape) if torch.is_tensor(feats) else None
    hint = ""
    if isinstance(split, SequentialSplit):
        hint = (". A TorchScript model runs as its top-level modules in "
                "sequence, so a torch.flatten() in its forward() is "
                "skipped: script an nn.Sequential with nn.Flatten, or "
                "export the eager model with --arch")
    raise ExportError(f"--cut {cut}: the input of the cut module has "
                      f"shape {shape}; dembench needs [N x D] features, "
                      "so cut at the first module after the features are "
                      f"flattened{hint}")


def run_front(split, source, device, label, on_batch):
    """Run the front over a task; call on_batch(features, labels, out).

    out is the model's output, or None for a TorchScript model after
    the task's first batch (see SequentialSplit.forward).
    """
    progress = Progress(label, source.n)
    split.check_next = True
    for x, y in source.batches():
        feats, out = split.forward(x.to(device))
        check_features(feats, split, split.cut)
        on_batch(feats.detach().cpu().float().numpy(), y.numpy(), out)
        progress.add(x.shape[0])


def source_moments(split, args, device):
    source = TaskSource(args.add_bn, args, {}, need_labels=False)
    source.subset(args.add_bn_limit)
    note(f"--add-bn: {source.n} source images from {args.add_bn}")
    moments = RunningMoments()
    run_front(split, source, device, "source",
              lambda f, y, out: moments.add(f))
    var = moments.variance()
    zero = int((var <= 0).sum())
    if zero:
        note(f"--add-bn: {zero} features are constant on the source "
             "images; their variance is set to 1e-12 (eps keeps the "
             "division finite)")
        var = var.clip(1e-12)
    return moments.mean, var


# ---------------------------------------------------------------------
# Writing

def write_string_attr(obj, key, value):
    """Write a string (or a list of strings) as variable-length UTF-8."""
    import h5py
    obj.attrs.create(key, value, dtype=h5py.string_dtype())


def write_model(f, layers):
    for i, l in enumerate(layers):
        g = f.create_group(f"model/layer_{i}")
        write_string_attr(g, "type", l["type"])
        if l["type"] == "batchnorm":
            g.attrs["eps"] = float(l["eps"])
            keys = ("running_mean", "running_var", "weight", "bias")
        elif l["type"] == "linear":
            keys = ("weight", "bias")
        else:
            keys = ()
        for k in keys:
            g.create_dataset(k, data=l[k])


class TaskWriter:
    """Write one task's features and labels batch by batch."""

    def __init__(self, f, task, n, classes):
        self.group = f.create_group("tasks/" + task["name"])
        if task["corruption"] is not None:
            write_string_attr(self.group, "corruption", task["corruption"])
            self.group.attrs["severity"] = task["severity"]
        self.n, self.classes, self.task = n, classes, task
        self.features = None
        self.labels = self.group.create_dataset("labels", (n,), "int32")
        self.row = 0

    def add(self, feats, labels):
        import numpy as np
        if self.features is None:
            d = feats.shape[1]
            rows = max(1, min(CHUNK_ROWS, CHUNK_BYTES // (4 * d), self.n))
            self.features = self.group.create_dataset(
                "features", (self.n, d), "float32", chunks=(rows, d))
        bad = (labels < 0) | (labels >= self.classes)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ExportError(f"{self.task['path']}: label "
                              f"{int(labels[i])} of image {self.row + i} "
                              f"is outside 0..{self.classes - 1}, the "
                              "model's classes")
        if not np.isfinite(feats).all():
            raise ExportError(f"{self.task['path']}: the model gives NaN "
                              f"or Inf features near image {self.row}")
        end = self.row + feats.shape[0]
        self.features[self.row:end] = feats
        self.labels[self.row:end] = labels
        self.row = end


def write_header(f, description, classes):
    import h5py
    write_string_attr(f, "format", "dembench-features")
    f.attrs["version"] = 1
    write_string_attr(f, "description", description)
    if classes:
        f.create_dataset("classes", data=classes,
                         dtype=h5py.string_dtype())


# ---------------------------------------------------------------------
# The export

def load_model(args, device):
    if args.torchscript:
        model = load_torchscript(args.torchscript)
        where = args.torchscript
    else:
        model = build_torchvision(args)
        where = f"{args.arch} ({args.weights})"
    model.eval().to(device)
    cut = args.cut or default_cut(model, where)
    if args.torchscript:
        split = SequentialSplit(model, cut, args.torchscript)
    else:
        split = EagerSplit(model, cut)
    return split, where, cut


def first_batch(source):
    for x, y in source.batches():
        return x
    raise ExportError(f"{source.path}: no images")


def prepare(args, device):
    """Load the model and tasks; return what the export writes."""
    tasks = collect_tasks(args)
    split, where, cut = load_model(args, device)

    classes, class_origin = read_class_list(args, tasks)
    class_index = {c: i for i, c in enumerate(classes or [])}
    sources = [TaskSource(t["path"], args, class_index) for t in tasks]
    for t, s in zip(tasks, sources):
        if classes is None and s.classes:
            classes, class_origin = s.classes, t["path"]
        elif s.classes and classes and s.classes != classes:
            raise ExportError(f"{t['path']}: its class names differ from "
                              f"those of {class_origin}; every task must "
                              "use the same classes in the same order")

    # The tail and the feature width come from one batch.
    x = first_batch(sources[0]).to(device)
    modules = split.trace_tail(x)
    check_tail_types(modules, where)
    split.check_next = True
    feats, out = split.forward(x)
    check_features(feats, split, cut)
    width = feats.shape[1]
    note(f"model {where}, cut before '{cut}': features of width {width}")
    layers = convert_tail(modules, width, where)
    diff = check_tail(layers, numpy32(feats), out, where)
    for l in layers:
        shape = (f" {l['weight'].shape[1]} -> {l['weight'].shape[0]}"
                 if l["type"] == "linear" else "")
        note(f"tail: {l['name']} -> {l['type']}{shape}")
    note(f"tail check: the converted tail gives the model's logits to "
         f"{diff:.2g} on the first batch")

    n_out = tail_forward(layers, numpy32(feats)).shape[1]
    if classes and len(classes) != n_out:
        raise ExportError(f"{len(classes)} class names (from "
                          f"{class_origin}) but the model has {n_out} "
                          "outputs; give --classes FILE with one name "
                          "per output, in class-id order")
    return dict(tasks=tasks, sources=sources, split=split, where=where,
                cut=cut, layers=layers, classes=classes, n_out=n_out)


def export(args, tmp):
    import h5py
    device = args.device or ("cuda" if torch.cuda.is_available()
                             else "cpu")
    p = prepare(args, device)
    layers = p["layers"]
    if args.add_bn:
        if layers[0]["type"] == "batchnorm":
            raise ExportError(f"--add-bn: the tail already starts with "
                              f"BatchNorm1d '{layers[0]['name']}', which "
                              "BN adaptation can adapt; drop --add-bn",
                              EXIT_USAGE)
        mean, var = source_moments(p["split"], args, device)
        layers = add_batchnorm(layers, mean, var, args.add_bn_eps,
                               p["where"])
    description = args.description or (
        f"features of {p['where']} before '{p['cut']}', written by "
        "tools/export_features.py " + " ".join(sys.argv[1:]))
    worst = 0.0
    with h5py.File(tmp, "w") as f:
        write_header(f, description, p["classes"])
        write_model(f, layers)
        for task, source in zip(p["tasks"], p["sources"]):
            writer = TaskWriter(f, task, source.n, p["n_out"])

            def on_batch(feats, labels, out):
                nonlocal worst
                if out is not None:
                    worst = max(worst, check_tail(layers, feats, out,
                                                  p["where"]))
                writer.add(feats, labels)
            note(f"task {task['name']}: {source.n} images from "
                 f"{task['path']}")
            run_front(p["split"], source, device, task["name"], on_batch)
        write_string_attr(f["tasks"], "order",
                          [t["name"] for t in p["tasks"]])
    checked = ("the first batch of each task"
               if isinstance(p["split"], SequentialSplit) else "every batch")
    note(f"tail check on {checked}: largest logit difference {worst:.2g}")


def on_signal(signum, frame):
    raise Interrupted()


def main(argv):
    global torch
    args = parse_args(argv)
    try:
        import torch as torch_module
        import h5py  # noqa: F401  (fail early when it is missing)
        import torchvision  # noqa: F401
    except ImportError as e:
        print(f"{PROG}: error: {e.name} is not installed; install it with "
              "apt-get install python3-torch python3-torchvision "
              "python3-h5py", file=sys.stderr)
        return EXIT_RUNTIME
    torch = torch_module
    out_dir = os.path.dirname(os.path.abspath(args.out))
    tmp = f"{args.out}.tmp.{os.getpid()}"
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        os.makedirs(out_dir, exist_ok=True)
        with torch.no_grad():
            export(args, tmp)
        os.replace(tmp, args.out)
    except ExportError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return e.code
    except Interrupted:
        print(f"{PROG}: interrupted; {args.out} was not written",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as e:
        print(f"{PROG}: error: {e.filename or args.out}: {e.strerror}",
              file=sys.stderr)
        return EXIT_RUNTIME
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    note(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
