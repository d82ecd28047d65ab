#!/usr/bin/python3
"""PyTorch reference for `dembench adapt`: the same online loop in torch.

The script builds the tail of a dembench feature file as torch modules
(float32), streams the batches that `dembench adapt --predictions`
recorded, and adapts with torch autograd and torch.optim.  Each method's
loss is written from the formulas in docs/methods.md, never from
dembench's hand-written gradients, so that agreement is an independent
check of both.  For each batch the loop predicts with the method's
BatchNorm mode, scores, then computes the loss, back-propagates and
steps the optimizer on the same batch.

  --check MODEL.h5  compares the predictions with the CSV and every
                    parameter with the model file that
                    `dembench adapt --save-model` wrote; exit 0 or 1.
  --time            times the loop, without file loading and without
                    the divergence checks, and prints one line of
                    key=value pairs.

Uses Debian's python3-torch and python3-h5py.  Example:

  build/dembench adapt F.h5 adadem --lr 0.01 --momentum 0.9 --steps 50 \
      --predictions P.csv --save-model M.h5
  tools/perf/torch_reference.py F.h5 adadem --lr 0.01 --momentum 0.9 \
      --steps 50 --order P.csv --check M.h5
"""

import argparse
import csv
import contextlib
import ctypes
import math
import os
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F

# The tolerance of the parameter check: |torch - dembench| divided by
# max(1, |dembench|), for every element.
PARAM_TOLERANCE = 1e-4


class InputError(Exception):
    """A problem with the inputs, reported on stderr with exit code 2."""


def openblas_libraries():
    """Return the loaded shared libraries that export OpenBLAS's API.

    Debian's numpy and torch reach OpenBLAS through libblas.so.3, which
    the openblas-pthread package ships as a copy of its own, so one
    process can hold two OpenBLAS instances, each with its own threads.
    """
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps
                        if "blas" in line and "/" in line})
    libraries = []
    for path in paths:
        try:
            library = ctypes.CDLL(path)
            library.openblas_get_num_threads
        except (OSError, AttributeError):
            continue
        libraries.append(library)
    return libraries


def set_openblas_threads(count):
    """Set the thread count of every loaded OpenBLAS instance.

    OPENBLAS_NUM_THREADS is read once, when OpenBLAS loads, and numpy
    has loaded it before the command line is parsed.
    """
    for library in openblas_libraries():
        library.openblas_set_num_threads(count)


def openblas_thread_counts():
    """Return the OpenBLAS thread counts, as "1", or "1/2" if they differ."""
    counts = sorted({lib.openblas_get_num_threads()
                     for lib in openblas_libraries()})
    return "/".join(map(str, counts)) or "none"


# ---------------------------------------------------------------------
# The feature file

def single_value(value):
    """Return an attribute stored as a scalar or a one-element array."""
    return np.asarray(value).reshape(-1)[0]


def text(value):
    value = single_value(value)
    return value.decode() if isinstance(value, bytes) else str(value)


def read_layers(f):
    """Return the layers of /model as dicts of float32 arrays."""
    layers = []
    for i in range(len(f["model"])):
        group = f["model/layer_%d" % i]
        layer = {"type": text(group.attrs["type"])}
        for name, item in group.items():
            layer[name] = np.asarray(item[:], dtype=np.float32)
        if "eps" in group.attrs:
            layer["eps"] = float(single_value(group.attrs["eps"]))
        layers.append(layer)
    return layers


def task_names(f):
    """Return the tasks in stream order: /tasks attribute order, or sorted."""
    if "order" in f["tasks"].attrs:
        order = f["tasks"].attrs["order"]
        return [o.decode() if isinstance(o, bytes) else str(o)
                for o in np.asarray(order).reshape(-1)]
    return sorted(f["tasks"])


class FeatureFile:
    """The tail, the task names and the labels of a dembench feature file.

    A task's features are read only when it is streamed, so that memory
    contains one task at a time, as in dembench.
    """

    def __init__(self, path, selected):
        self.path = path
        with self.open() as f:
            first = f["tasks/" + task_names(f)[0]]
            self.kind = "features" if "features" in first else "logits"
            self.layers = read_layers(f) if "model" in f else []
            self.tasks = selected or task_names(f)
            self.labels = {name: self.read_labels(f, name)
                           for name in self.tasks}
            self.classes = first[self.kind].shape[1]
        for layer in self.layers:
            if layer["type"] == "linear":
                self.classes = layer["weight"].shape[0]

    @contextlib.contextmanager
    def open(self):
        """Open the file; name it in the error of a read that fails."""
        try:
            with h5py.File(self.path, "r") as f:
                yield f
        except OSError as e:
            raise InputError("%s: %s" % (self.path, e)) from None
        except KeyError as e:
            raise InputError("%s: %s; `dembench inspect --check %s` names "
                             "what the file lacks"
                             % (self.path, e, self.path)) from None

    def read_labels(self, f, name):
        if "tasks/" + name not in f:
            raise InputError("%s: no task '%s'; `dembench inspect %s` "
                             "lists the tasks" % (self.path, name, self.path))
        return np.asarray(f["tasks/%s/labels" % name][:], dtype=np.int64)

    def inputs(self, name):
        """Read a task's features or logits as float32."""
        with self.open() as f:
            data = f["tasks/%s/%s" % (name, self.kind)][:]
        return np.asarray(data, dtype=np.float32)


# ---------------------------------------------------------------------
# The tail as torch modules

class ClassBias(torch.nn.Module):
    """The per-class bias that dembench adapts on a logits file."""

    def __init__(self, classes):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(classes))

    def forward(self, x):
        return x + self.bias


def batchnorm_module(layer, batch_statistics):
    """nn.BatchNorm1d with the file's parameters and statistics.

    With batch statistics the module is in training mode without
    running statistics, so torch normalises with the batch mean and
    biased variance and updates nothing.
    """
    width = layer["weight"].shape[0]
    bn = torch.nn.BatchNorm1d(width, eps=layer["eps"])
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(layer["weight"]))
        bn.bias.copy_(torch.from_numpy(layer["bias"]))
        bn.running_mean.copy_(torch.from_numpy(layer["running_mean"]))
        bn.running_var.copy_(torch.from_numpy(layer["running_var"]))
    if batch_statistics:
        bn.train()
        bn.track_running_stats = False
        bn.running_mean = None
        bn.running_var = None
    else:
        bn.eval()
    return bn


def linear_module(layer):
    out_width, in_width = layer["weight"].shape
    linear = torch.nn.Linear(in_width, out_width)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(layer["weight"]))
        linear.bias.copy_(torch.from_numpy(layer["bias"]))
    return linear


def build_tail(data, batch_statistics):
    """Return the tail as an nn.Sequential, layer i being module i."""
    if data.kind == "logits":
        return torch.nn.Sequential(ClassBias(data.classes))
    modules = []
    for layer in data.layers:
        if layer["type"] == "batchnorm":
            modules.append(batchnorm_module(layer, batch_statistics))
        elif layer["type"] == "relu":
            modules.append(torch.nn.ReLU())
        elif layer["type"] == "linear":
            modules.append(linear_module(layer))
        else:
            raise InputError("%s: layer type '%s' is not supported"
                             % (data.path, layer["type"]))
    return torch.nn.Sequential(*modules)


def adapted_parameters(tail, params):
    """Set requires_grad as dembench's --params does; return those adapted.

    The bias of a logits file is adapted under every setting.
    """
    kinds = {"batchnorm": (torch.nn.BatchNorm1d,),
             "linear": (torch.nn.Linear,),
             "all": (torch.nn.BatchNorm1d, torch.nn.Linear)}[params]
    adapted = []
    for module in tail:
        keep = isinstance(module, kinds) or \
            not isinstance(module, (torch.nn.BatchNorm1d, torch.nn.Linear))
        for p in module.parameters(recurse=False):
            p.requires_grad_(keep)
            if keep:
                adapted.append(p)
    return adapted


def make_optimizer(parameters, args):
    if args.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=args.lr,
                                betas=(0.9, 0.999), eps=1e-8,
                                weight_decay=args.weight_decay)
    # torch rejects nesterov without momentum; dembench ignores it.
    return torch.optim.SGD(parameters, lr=args.lr, momentum=args.momentum,
                           nesterov=args.nesterov and args.momentum > 0,
                           weight_decay=args.weight_decay)


# ---------------------------------------------------------------------
# The methods, from the formulas of docs/methods.md.  Each loss takes
# the logits in float64, as dembench's methods work in double, and
# returns the batch mean.

def entropy(z):
    """H(z) = -sum_i p_i log p_i per row."""
    log_p = F.log_softmax(z, dim=1)
    return -(log_p.exp() * log_p).sum(dim=1)


def cadf(z, tau=1.0):
    """T_tau(z) = -sum_i softmax(z / tau)_i z_i per row."""
    return -(F.softmax(z / tau, dim=1) * z).sum(dim=1)


def cadf_reward_l1(z):
    """delta_n: the L1 norm of the CADF reward -dT/dz, held constant.

    The reward comes from autograd on T, not from its closed form, so
    the closed form in dembench is checked as well.
    """
    with torch.enable_grad():
        z0 = z.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(cadf(z0).sum(), z0)
    return grad.abs().sum(dim=1)


class Calibrator:
    """AdaDEM's M: row k averages the predictions pseudo-labelled k."""

    def __init__(self, classes, pi):
        self.pi = pi
        self.m = torch.full((classes, classes), 1.0 / classes,
                            dtype=torch.float64)

    def observe(self, z):
        """Update M from the batch, before the loss; return y_n."""
        with torch.no_grad():
            p = F.softmax(z, dim=1)
            y = p.argmax(dim=1)
            classes = self.m.shape[0]
            counts = torch.bincount(y, minlength=classes)
            sums = torch.zeros_like(self.m).index_add_(0, y, p)
            seen = counts > 0
            mean = sums[seen] / counts[seen].unsqueeze(1)
            self.m[seen] = (1 - self.pi) * self.m[seen] + self.pi * mean
        return y


def calibrated_cadf(z, calibrator):
    """Update M, then return -sum_i (p_i - M[y_n]_i) z_i per row."""
    y = calibrator.observe(z)
    m = calibrator.m[y]
    return -((F.softmax(z, dim=1) - m) * z).sum(dim=1)


def loss_em(z, state, tunables):
    return entropy(z).mean()


def loss_cadf(z, state, tunables):
    return cadf(z).mean()


def loss_dem(z, state, tunables):
    tau, alpha = tunables["tau"], tunables["alpha"]
    return (cadf(z, tau) + alpha * torch.logsumexp(z, dim=1)).mean()


def loss_adadem(z, state, tunables):
    return (calibrated_cadf(z, state) / cadf_reward_l1(z)).mean()


def loss_adadem_norm(z, state, tunables):
    return (entropy(z) / cadf_reward_l1(z)).mean()


def loss_adadem_mec(z, state, tunables):
    return calibrated_cadf(z, state).mean()


# name: (BatchNorm with batch statistics, loss or None, tunable defaults,
# the method keeps a calibrator).
METHODS = {
    "noadapt": (False, None, {}, False),
    "norm": (True, None, {}, False),
    "em": (True, loss_em, {}, False),
    "cadf": (True, loss_cadf, {}, False),
    "dem": (True, loss_dem, {"tau": 1.0, "alpha": 1.0}, False),
    "adadem": (True, loss_adadem, {"pi": 0.1}, True),
    "adadem-norm": (True, loss_adadem_norm, {}, False),
    "adadem-mec": (True, loss_adadem_mec, {"pi": 0.1}, True),
}


def method_tunables(method, settings):
    """Return the tunables of method, with --set NAME=VALUE applied."""
    tunables = dict(METHODS[method][2])
    for setting in settings:
        name, sep, value = setting.partition("=")
        if not sep or name not in tunables:
            raise InputError(
                "--set %s: %s has no tunable '%s'; its tunables: %s"
                % (setting, method, name, ", ".join(tunables) or "none"))
        try:
            tunables[name] = float(value)
        except ValueError:
            raise InputError("--set %s: invalid number '%s'"
                             % (setting, value)) from None
    return tunables


# ---------------------------------------------------------------------
# The batches

PREDICTION_COLUMNS = ("task", "batch", "row", "label", "predicted")


def read_predictions(path, selected):
    """Return the CSV's rows as (task, batch, row, label, predicted)."""
    records = []
    with open(path, newline="") as fp:
        reader = csv.DictReader(fp)
        missing = set(PREDICTION_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise InputError("%s: no column %s; expected the CSV of "
                             "`dembench adapt --predictions`"
                             % (path, ", ".join(sorted(missing))))
        for line, rec in enumerate(reader, start=2):
            if selected and rec["task"] not in selected:
                continue
            try:
                records.append((rec["task"],) + tuple(
                    int(rec[c]) for c in PREDICTION_COLUMNS[1:]))
            except (TypeError, ValueError):
                raise InputError("%s:%d: invalid row %s; expected "
                                 "task,batch,row,label,predicted with "
                                 "whole numbers" % (path, line, rec)) \
                    from None
    return records


def read_order(path, selected):
    """Return {task: [row arrays]} and the CSV predictions per task.

    With selected (the --task names), only those tasks are kept.  The
    CSV is `dembench adapt --predictions`, with the rows of each task in
    stream order.
    """
    try:
        records = read_predictions(path, selected)
    except (UnicodeDecodeError, csv.Error) as e:
        raise InputError("%s: not a CSV file (%s); expected the output "
                         "of `dembench adapt --predictions`" % (path, e)) \
            from None
    if not records:
        raise InputError("%s: no predictions of the selected tasks; "
                         "expected the CSV of `dembench adapt "
                         "--predictions`" % path)
    batches, predicted = {}, {}
    for task, batch, row, label, guess in records:
        batches.setdefault(task, {}).setdefault(batch, []).append(row)
        predicted.setdefault(task, []).append((row, label, guess))
    order = {task: [np.array(rows[k]) for k in sorted(rows)]
             for task, rows in batches.items()}
    return order, predicted


def check_order(path, data, order, predicted, batch_size):
    """Reject an order file that does not belong to this data file."""
    for task, rows_list in order.items():
        y = data.labels[task]
        for row, label, _ in predicted[task]:
            if row >= len(y) or y[row] != label:
                raise InputError(
                    "%s: task %s row %d has label %d, but %s has %s; "
                    "expected the predictions of this feature file"
                    % (path, task, row, label, data.path,
                       y[row] if row < len(y) else "no such row"))
        for rows in rows_list[:-1]:
            if len(rows) != batch_size:
                raise InputError(
                    "%s: task %s has a batch of %d rows with "
                    "--batch-size %d; pass the --batch-size of the "
                    "dembench run" % (path, task, len(rows), batch_size))


def fixed_order(data, batch_size, seed):
    """Return a fixed permutation of each task, in batches, for timing."""
    rng = np.random.default_rng(seed)
    order = {}
    for task in data.tasks:
        rows = rng.permutation(len(data.labels[task]))
        order[task] = [rows[i:i + batch_size]
                       for i in range(0, len(rows), batch_size)]
    return order


# ---------------------------------------------------------------------
# The online loop

class Run:
    """The tail, optimizer and method state of one protocol segment."""

    def __init__(self, data, args, tunables):
        batch_stats, self.loss, _, stateful = METHODS[args.method]
        self.tunables = tunables
        self.tail = build_tail(data, batch_stats)
        if args.dtype == "float64":
            self.tail.double()
        self.adapted = adapted_parameters(self.tail, args.params)
        self.optimizer = None
        if self.loss is not None and self.adapted:
            self.optimizer = make_optimizer(self.adapted, args)
        self.state = Calibrator(data.classes, tunables["pi"]) \
            if stateful else None

    def step(self, x):
        """Predict x, then adapt on it; return (logits, finite).

        Like dembench, it stops before the update when the loss or the
        gradient is not finite, and reports non-finite parameters after
        the update.
        """
        if self.optimizer is None:
            with torch.no_grad():
                return self.tail(x), True
        out = self.tail(x)
        logits = out.detach()
        loss = self.loss(out.double(), self.state, self.tunables)
        if not torch.isfinite(loss):
            return logits, False
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if not all(p.grad is None or torch.isfinite(p.grad).all()
                   for p in self.adapted):
            return logits, False
        self.optimizer.step()
        return logits, all(torch.isfinite(p).all() for p in self.adapted)

    def plain_step(self, x):
        """Predict x, then adapt on it, without the finiteness checks.

        This is the loop as a PyTorch user writes it, which --time
        measures.  The checks of step() took about a quarter of the
        loop's time with D = 256 and C = 10 (torch 1.13, 1 thread).
        """
        if self.optimizer is None:
            with torch.no_grad():
                return self.tail(x), True
        out = self.tail(x)
        loss = self.loss(out.double(), self.state, self.tunables)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return out.detach(), True


def dtype(args):
    return torch.float64 if args.dtype == "float64" else torch.float32


def check_batch_sizes(data, order, method):
    """Reject one-sample batches, which torch's BatchNorm1d cannot take.

    In training mode torch raises an error for them, whereas dembench
    normalises the sample to zero, so that the layer outputs its bias.
    """
    has_bn = any(layer["type"] == "batchnorm" for layer in data.layers)
    if not (has_bn and METHODS[method][0]):
        return
    for task, rows_list in order.items():
        for i, rows in enumerate(rows_list):
            if len(rows) == 1:
                raise InputError(
                    "task %s: batch %d has one sample, which torch's "
                    "BatchNorm1d rejects with batch statistics; choose a "
                    "--batch-size that leaves at least two samples in "
                    "the last batch" % (task, i + 1))


def stream(data, order, args, tunables, record, checked=True):
    """Run the protocol over the tasks; return the last Run and the time.

    record(task, rows, logits) receives each batch's logits before the
    update.  Unless checked, the steps skip the finiteness checks.  The
    time, in seconds, leaves out reading the tasks from the file.
    """
    check_batch_sizes(data, order, args.method)
    run, seconds = None, 0.0
    for task in order:
        x = torch.from_numpy(data.inputs(task)).to(dtype(args))
        start = time.perf_counter()
        if run is None or args.protocol == "single":
            run = Run(data, args, tunables)
        step = run.step if checked else run.plain_step
        for i, rows in enumerate(order[task][:args.steps]):
            logits, finite = step(x[rows])
            record(task, rows, logits)
            if not finite:
                print("torch: task %s diverged at batch %d"
                      % (task, i + 1), file=sys.stderr)
                break
        seconds += time.perf_counter() - start
    return run, seconds


def final_parameters(run, data):
    """Return {(layer, name): array} as a model file lays them out."""
    values = {}
    for i, module in enumerate(run.tail):
        for name, p in module.named_parameters(recurse=False):
            values[(i, name)] = p.detach().numpy()
    for i, layer in enumerate(data.layers):
        for name in ("running_mean", "running_var"):
            if name in layer:
                values[(i, name)] = layer[name]
    return values


# ---------------------------------------------------------------------
# --check

class PredictionCheck:
    """Compares torch's predictions with dembench's, batch by batch.

    A different prediction is a near-tie when torch's logits for the
    two classes differ by at most tie_tolerance * max(1, max |z|).
    Only the differences are kept, not the logits.
    """

    def __init__(self, expected, tie_tolerance):
        self.expected = {(task, row): predicted
                         for task, rows in expected.items()
                         for row, _, predicted in rows}
        self.tie_tolerance = tie_tolerance
        self.equal = 0
        self.ties, self.different = [], []
        self.seen = set()

    def record(self, task, rows, logits):
        for row, z in zip(rows.tolist(), logits.numpy()):
            theirs = self.expected[(task, row)]
            mine = int(z.argmax())
            self.seen.add((task, row))
            if mine == theirs:
                self.equal += 1
                continue
            gap = abs(float(z[mine] - z[theirs]))
            scale = max(1.0, float(np.abs(z).max()))
            near = gap <= self.tie_tolerance * scale
            target = self.ties if near else self.different
            target.append((task, row, theirs, mine, gap))

    def report(self):
        """Print the counts and the first differences; return True if ok."""
        missing = len(self.expected) - len(self.seen)
        ok = not self.different and not missing
        print("%-12s %d samples: %d equal, %d near-ties, %d different, "
              "%d not run  %s"
              % ("predictions", len(self.expected), self.equal,
                 len(self.ties), len(self.different), missing,
                 "PASS" if ok else "FAIL"))
        print_prediction_rows("near-tie", self.ties)
        print_prediction_rows("different", self.different)
        return ok


def print_prediction_rows(title, rows):
    for task, row, theirs, mine, gap in rows[:10]:
        print("  %s task %s row %d: dembench %d, torch %d, logit gap %.3g"
              % (title, task, row, theirs, mine, gap))


def read_model_file(path):
    """Return {(layer, name): array} from a `--save-model` file."""
    values = {}
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise InputError("%s: %s" % (path, e)) from None
    with f:
        if text(f.attrs.get("format", "")) != "dembench-model":
            raise InputError("%s: format is not dembench-model; "
                             "expected a file written by `dembench "
                             "adapt --save-model`" % path)
        for i in range(len(f["model"])):
            for name, item in f["model/layer_%d" % i].items():
                values[(i, name)] = np.asarray(item[:], dtype=np.float64)
    return values


def source_parameters(data):
    """Return {(layer, name): array} of the file's tail before adaptation."""
    if data.kind == "logits":
        return {(0, "bias"): np.zeros(data.classes)}
    return {(i, name): value for i, layer in enumerate(data.layers)
            for name, value in layer.items()
            if isinstance(value, np.ndarray)}


def relative_error(a, b):
    """max |a - b| / max(1, |b|) over the elements."""
    return float((np.abs(a - b) / np.maximum(1.0, np.abs(b))).max())


def check_parameter(key, mine, theirs, source):
    """Print the row of one parameter; return its error, None if absent.

    The change column, dembench's final value against the source value
    on the same scale, shows how far adaptation moved the parameter,
    so that an error can be read against it.
    """
    name = "layer_%-2d %-13s" % key
    if key not in theirs or key not in mine:
        where = "the model file" if key not in theirs else "torch"
        print("parameter    %s missing in %s  FAIL" % (name, where))
        return None
    a, b = mine[key].astype(np.float64), theirs[key]
    if a.shape != b.shape:
        print("parameter    %s shape %s in torch, %s in the model file  "
              "FAIL" % (name, list(a.shape), list(b.shape)))
        return None
    err = relative_error(a, b)
    change = relative_error(b, source[key]) if key in source else 0.0
    print("parameter    %s %-11s %-12.3g %-12.3g %-12.3g %s"
          % (name, list(b.shape), float(np.abs(a - b).max()), err,
             change, "PASS" if err <= PARAM_TOLERANCE else "FAIL"))
    return err


def check_parameters(theirs, mine, source):
    """Print one row per parameter; return (all within, max error)."""
    ok, worst = True, 0.0
    print("%-12s %-8s %-13s %-11s %-12s %-12s %-12s %s"
          % ("parameter", "layer", "name", "shape", "max_abs_diff",
             "max_rel_err", "max_change", "status"))
    for key in sorted(set(theirs) | set(mine)):
        err = check_parameter(key, mine, theirs, source)
        ok = ok and err is not None and err <= PARAM_TOLERANCE
        worst = max(worst, err if err is not None else math.inf)
    return ok, worst


def run_check(data, args, tunables, order, expected):
    theirs = read_model_file(args.check)
    predictions = PredictionCheck(expected, args.tie_tolerance)
    run, _ = stream(data, order, args, tunables, predictions.record)
    preds_ok = predictions.report()
    params_ok, worst = check_parameters(
        theirs, final_parameters(run, data), source_parameters(data))
    ok = preds_ok and params_ok
    print("result %s method=%s optimizer=%s params=%s max_rel_err=%.3g "
          "tolerance=%g" % ("PASS" if ok else "FAIL", args.method,
                            args.optimizer, args.params, worst,
                            PARAM_TOLERANCE))
    return 0 if ok else 1


# ---------------------------------------------------------------------
# --time

def time_stream(data, order, args, tunables):
    """Run the stream once; return (seconds, samples, correct)."""
    labels = {t: torch.from_numpy(data.labels[t]) for t in order}
    count = {"samples": 0, "correct": 0}

    # Scored as dembench scores: argmax of the pre-update logits.
    def record(task, rows, logits):
        count["samples"] += len(rows)
        count["correct"] += int(
            (logits.argmax(1) == labels[task][rows]).sum())

    _, seconds = stream(data, order, args, tunables, record, checked=False)
    return seconds, count["samples"], count["correct"]


def run_time(data, args, tunables, order):
    # One untimed batch takes torch's one-time set-up out of the figure.
    first = next(iter(order))
    x = torch.from_numpy(data.inputs(first)[order[first][0]])
    Run(data, args, tunables).plain_step(x.to(dtype(args)))
    seconds, samples, correct = min(
        time_stream(data, order, args, tunables)
        for _ in range(args.repeat))
    print("torch samples_per_s=%.1f threads=%d openblas_threads=%s "
          "openblas_env=%s method=%s batch_size=%d samples=%d "
          "seconds=%.4f repeat=%d accuracy=%.4f torch_version=%s"
          % (samples / seconds, torch.get_num_threads(),
             openblas_thread_counts(),
             os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
             args.method, args.batch_size, samples, seconds,
             args.repeat, correct / samples, torch.__version__))
    return 0


# ---------------------------------------------------------------------
# The command line

def add_mode_arguments(parser):
    parser.add_argument("file", help="dembench feature file (HDF5)")
    parser.add_argument("method", choices=sorted(METHODS))
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", metavar="MODEL.h5",
                      help="compare with this `dembench adapt "
                           "--save-model` file and --order's predictions")
    mode.add_argument("--time", action="store_true",
                      help="time the loop and print samples per second")
    parser.add_argument("--order", metavar="PREDICTIONS.csv",
                        help="`dembench adapt --predictions` CSV: the "
                             "batches, in dembench's stream order")
    parser.add_argument("--fixed-order", type=int, metavar="SEED",
                        help="with --time and no --order: stream each "
                             "task in a numpy permutation from SEED")


def add_run_arguments(parser):
    """Add the options of `dembench adapt`, with the same defaults."""
    parser.add_argument("--task", action="append", default=[],
                        help="task to stream (repeat; default: all, or "
                             "those in --order)")
    parser.add_argument("--protocol", choices=("single", "continual"),
                        default="single",
                        help="single resets the model per task (default)")
    parser.add_argument("--set", action="append", default=[],
                        metavar="NAME=VALUE", help="a tunable of the method")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--optimizer", choices=("sgd", "adam"),
                        default="sgd")
    parser.add_argument("--momentum", type=float, default=0.0)
    parser.add_argument("--nesterov", action="store_true")
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--params", choices=("batchnorm", "linear", "all"),
                        default="batchnorm")
    parser.add_argument("--steps", type=int, default=None,
                        help="stop each task after this many batches")


def add_reference_arguments(parser):
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads(N); default: torch's")
    parser.add_argument("--openblas-threads", type=int, default=None,
                        help="openblas_set_num_threads(N) on every loaded "
                             "OpenBLAS; default: OPENBLAS_NUM_THREADS or "
                             "OpenBLAS's own default")
    parser.add_argument("--dtype", choices=("float32", "float64"),
                        default="float32",
                        help="precision of the tail; float32 as dembench "
                             "(default), float64 to tell rounding from "
                             "errors when a check fails")
    parser.add_argument("--repeat", type=int, default=1,
                        help="with --time: run the stream N times and "
                             "report the fastest (default 1)")
    parser.add_argument("--tie-tolerance", type=float, default=1e-3,
                        help="a different prediction whose two logits "
                             "differ by at most this times max(1, |z|) "
                             "is a near-tie, reported but not a failure "
                             "(default 1e-3)")


def check_args(parser, args):
    if args.check and not args.order:
        parser.error("--check needs --order PREDICTIONS.csv")
    if args.time and args.order is None and args.fixed_order is None:
        parser.error("--time needs --order or --fixed-order SEED")
    minimum = {"batch_size": 2, "steps": 1, "threads": 1,
               "openblas_threads": 1, "repeat": 1}
    for name, low in minimum.items():
        value = getattr(args, name)
        if value is not None and value < low:
            parser.error("--%s %d is invalid; expected at least %d"
                         % (name.replace("_", "-"), value, low))


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Replay `dembench adapt` in PyTorch and compare, or "
                    "time the same loop.")
    add_mode_arguments(parser)
    add_run_arguments(parser)
    add_reference_arguments(parser)
    args = parser.parse_args(argv)
    check_args(parser, args)
    return args


def main(argv):
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.openblas_threads is not None:
        set_openblas_threads(args.openblas_threads)
    try:
        tunables = method_tunables(args.method, args.set)
        if args.order:
            order, expected = read_order(args.order, args.task)
            data = FeatureFile(args.file, list(order))
            check_order(args.order, data, order, expected, args.batch_size)
        else:
            data = FeatureFile(args.file, args.task)
            order = fixed_order(data, args.batch_size, args.fixed_order)
        if args.check:
            return run_check(data, args, tunables, order, expected)
        return run_time(data, args, tunables, order)
    except (InputError, OSError) as e:
        print("torch_reference: error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
