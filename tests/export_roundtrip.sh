#!/bin/sh
# tools/export_features.py round trip: a small random CNN (TorchScript)
# and a random torchvision ResNet-18 are exported on synthetic images.
# dembench's NoAdapt predictions must equal PyTorch's eval-mode ones on
# every sample.  One EM step must move the BatchNorm weight and bias as
# PyTorch's autograd and SGD do, to 1e-5.  A tail with a layer that
# dembench cannot run must be rejected with the layer named.
set -u
. "$(dirname "$0")/lib/tap.sh"
build=${BUILD:-build}
dembench=${DEMBENCH:-$build/dembench}
python=/usr/bin/python3
export_py="$(dirname "$0")/../tools/export_features.py"
tmp=$(mktemp -d /tmp/dembench-export.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if ! $python -c 'import torch, torchvision, h5py' 2>/dev/null; then
	echo "1..0 # SKIP python3-torch or python3-torchvision is not" \
		"installed (apt-get install python3-torch python3-torchvision)"
	exit 0
fi
plan 14

# The models, the images and PyTorch's own features and predictions.
# Task "a" is a .pt tensor file of uint8 pixels, task "fog_5" a folder
# of PNG files, which are lossless, so the exporter reads the pixels
# that PyTorch gets here.  Both are normalised with mean 0.5, std 0.25.
$python - "$tmp" <<'PY'
import os, sys
from collections import OrderedDict
import numpy as np
import torch, torch.nn as nn, torchvision
from PIL import Image

tmp = sys.argv[1]
torch.manual_seed(0)


def randomise_bn(net):
    """Give every BatchNorm statistics and parameters away from 0 and 1."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
                m.running_mean.uniform_(-0.1, 0.3)
                m.running_var.uniform_(0.01, 0.1)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)


def cnn(head):
    layers = OrderedDict(
        conv1=nn.Conv2d(3, 8, 3, padding=1), bn1=nn.BatchNorm2d(8),
        relu1=nn.ReLU(), pool=nn.MaxPool2d(2),
        conv2=nn.Conv2d(8, 16, 3, padding=1), relu2=nn.ReLU(),
        gap=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten())
    layers.update(head)
    net = nn.Sequential(layers)
    randomise_bn(net)
    return net.eval()


net = cnn(OrderedDict(bn=nn.BatchNorm1d(16), relu=nn.ReLU(),
                      drop=nn.Dropout(0.5), fc=nn.Linear(16, 5)))
torch.jit.save(torch.jit.script(net), f"{tmp}/cnn.pt")
soft = cnn(OrderedDict(bn=nn.BatchNorm1d(16), fc=nn.Linear(16, 5),
                       soft=nn.Softmax(dim=1)))
torch.jit.save(torch.jit.script(soft), f"{tmp}/softmax.pt")

resnet = torchvision.models.resnet18(weights=None, num_classes=5)
randomise_bn(resnet)
resnet.eval()
torch.save(resnet.state_dict(), f"{tmp}/resnet18.pth")

rng = np.random.default_rng(1)
pixels = {"a": rng.integers(0, 256, (200, 16, 16, 3), dtype=np.uint8),
          "fog_5": rng.integers(0, 256, (150, 16, 16, 3), dtype=np.uint8)}
labels = {"a": rng.integers(0, 5, 200), "fog_5": np.arange(150) % 5}
torch.save({"images": torch.from_numpy(pixels["a"]),
            "labels": torch.from_numpy(labels["a"])}, f"{tmp}/a.pt")
# ImageFolder order: class folders sorted, files sorted within each.
order = np.argsort(labels["fog_5"], kind="stable")
pixels["fog_5"], labels["fog_5"] = pixels["fog_5"][order], labels[
    "fog_5"][order]
for i, (img, y) in enumerate(zip(pixels["fog_5"], labels["fog_5"])):
    os.makedirs(f"{tmp}/fog_5/class{y}", exist_ok=True)
    Image.fromarray(img).save(f"{tmp}/fog_5/class{y}/{i:04d}.png")
source = rng.integers(0, 256, (100, 16, 16, 3), dtype=np.uint8)
np.save(f"{tmp}/source.npy", source)


def model_input(p):
    x = torch.from_numpy(p).permute(0, 3, 1, 2).float() / 255
    return (x - 0.5) / 0.25


ref = {}
with torch.no_grad():
    for task in pixels:
        x = model_input(pixels[task])
        ref[f"{task}/features"] = net[:8](x).numpy()
        ref[f"{task}/pred"] = net(x).argmax(1).numpy()
        ref[f"{task}/labels"] = labels[task]
        ref[f"{task}/resnet_pred"] = resnet(x).argmax(1).numpy()
    trunk = nn.Sequential(*list(resnet.children())[:-1], nn.Flatten())
    f = trunk(model_input(source)).double()
    ref["source_mean"] = f.mean(0).numpy()
    ref["source_var"] = f.var(0).numpy()
np.savez(f"{tmp}/ref.npz", **ref)
PY
ok $? "PyTorch writes the models, the images and its predictions"

common="--resize 0 --crop 0 --mean 0.5 --std 0.25 --workers 0"
# shellcheck disable=SC2086
$python "$export_py" --torchscript "$tmp/cnn.pt" --cut bn \
	--task a="$tmp/a.pt" --task fog_5="$tmp/fog_5" $common \
	--out "$tmp/cnn.h5" 2>"$tmp/log"
status=$?
ok $status "the TorchScript CNN is exported"
[ $status -eq 0 ] || diag "$(cat "$tmp/log")"

$dembench inspect "$tmp/cnn.h5" --check > "$tmp/inspect" 2>&1 &&
	grep -q 'layer_0   batchnorm  16 -> 16  eps 1e-05' "$tmp/inspect" &&
	grep -q 'layer_1   relu' "$tmp/inspect" &&
	grep -q 'layer_2   linear     16 -> 5' "$tmp/inspect" &&
	grep -q 'fog_5  *150  *16  fog  *5' "$tmp/inspect" &&
	grep -q 'classes     5: class0, class1' "$tmp/inspect"
status=$?
ok $status "inspect: BN-ReLU-Linear tail, dropout gone, task attributes"
[ $status -eq 0 ] || diag "$(cat "$tmp/inspect")"

$python - "$tmp" <<'PY'
import sys, h5py, numpy as np
tmp = sys.argv[1]
ref = np.load(f"{tmp}/ref.npz")
with h5py.File(f"{tmp}/cnn.h5") as f:
    for task in ("a", "fog_5"):
        feats = f[f"tasks/{task}/features"][:]
        diff = np.abs(feats - ref[f"{task}/features"]).max()
        assert diff <= 1e-6, f"{task}: features differ by {diff}"
        assert (f[f"tasks/{task}/labels"][:] == ref[f"{task}/labels"]).all()
PY
ok $? "stored features and labels are PyTorch's"

# Checks a predictions file against PyTorch's predictions in ref.npz.
# usage: same_predictions FILE.csv KEY (pred or resnet_pred)
same_predictions() {
	$python - "$tmp" "$1" "$2" <<'PY'
import csv, sys
import numpy as np
tmp, path, key = sys.argv[1:]
ref = np.load(f"{tmp}/ref.npz")
seen = {"a": 0, "fog_5": 0}
with open(path) as fp:
    for r in csv.DictReader(fp):
        want = ref[f"{r['task']}/{key}"][int(r["row"])]
        assert int(r["predicted"]) == want, f"{r}: PyTorch says {want}"
        assert int(r["label"]) == ref[f"{r['task']}/labels"][int(r["row"])]
        seen[r["task"]] += 1
assert seen == {"a": 200, "fog_5": 150}, seen
PY
}

$dembench adapt "$tmp/cnn.h5" noadapt --predictions "$tmp/p0.csv" \
	> /dev/null && same_predictions "$tmp/p0.csv" pred
ok $? "NoAdapt predictions equal PyTorch's on all 350 samples"

# One EM step on the first batch of task a; the batch's rows, in stream
# order, are those of batch 1 in the predictions file.
$dembench adapt "$tmp/cnn.h5" em --task a --steps 1 --batch-size 32 \
	--lr 0.5 --predictions "$tmp/p1.csv" --save-model "$tmp/m1.h5" \
	> /dev/null
ok $? "dembench adapt em runs one step"

$python - "$tmp" > "$tmp/em.out" 2>&1 <<'PY'
import csv, sys
import h5py, numpy as np
import torch, torch.nn.functional as F
tmp = sys.argv[1]
net = torch.jit.load(f"{tmp}/cnn.pt")
with open(f"{tmp}/p1.csv") as fp:
    rows = [int(r["row"]) for r in csv.DictReader(fp)
            if r["task"] == "a" and r["batch"] == "1"]
assert len(rows) == 32, len(rows)
x = torch.from_numpy(np.load(f"{tmp}/ref.npz")["a/features"][rows])

bn, fc = net.bn, net.fc
weight = bn.weight.detach().clone().requires_grad_()
bias = bn.bias.detach().clone().requires_grad_()
opt = torch.optim.SGD([weight, bias], lr=0.5)
# BatchNorm in train mode normalises with the batch statistics; passing
# no running statistics leaves the model's own untouched.
h = F.batch_norm(x, None, None, weight, bias, training=True, eps=bn.eps)
z = F.linear(F.relu(h), fc.weight.detach(), fc.bias.detach())
p = z.softmax(1)
loss = -(p * z.log_softmax(1)).sum(1).mean()
opt.zero_grad()
loss.backward()
opt.step()

with h5py.File(f"{tmp}/m1.h5") as m:
    got_w = m["model/layer_0/weight"][:]
    got_b = m["model/layer_0/bias"][:]
moved = (weight - bn.weight).abs().max().item()
dw = np.abs(got_w - weight.detach().numpy()).max()
db = np.abs(got_b - bias.detach().numpy()).max()
print(f"loss {loss.item():.6f}, largest change {moved:.3g}, "
      f"difference weight {dw:.3g}, bias {db:.3g}")
assert moved > 1e-3, "the step is too small to test anything"
assert dw <= 1e-5, f"weight differs by {dw}"
assert db <= 1e-5, f"bias differs by {db}"
PY
status=$?
ok $status "one EM step moves BN weight and bias as PyTorch SGD"
diag "$(cat "$tmp/em.out")"

# A torchvision ResNet-18 (random weights, 5 classes read from the
# weights file) cut before fc, with a BatchNorm added from source images.
# shellcheck disable=SC2086
$python "$export_py" --arch resnet18 --weights "$tmp/resnet18.pth" \
	--add-bn "$tmp/source.npy" --task a="$tmp/a.pt" \
	--task fog_5="$tmp/fog_5" $common --out "$tmp/resnet.h5" 2>"$tmp/log"
status=$?
ok $status "the torchvision ResNet-18 is exported with --add-bn"
[ $status -eq 0 ] || diag "$(cat "$tmp/log")"

$python - "$tmp" <<'PY'
import sys, h5py, numpy as np
tmp = sys.argv[1]
ref = np.load(f"{tmp}/ref.npz")
with h5py.File(f"{tmp}/resnet.h5") as f:
    bn = f["model/layer_0"]
    assert bn.attrs["type"] == "batchnorm"
    assert f["model/layer_1"].attrs["type"] == "linear"
    assert "model/layer_2" not in f
    assert (bn["weight"][:] == 1).all()
    assert (bn["bias"][:] == 0).all()
    for key in ("mean", "var"):
        got, want = bn["running_" + key][:], ref["source_" + key]
        assert np.allclose(got, want, rtol=1e-4, atol=1e-6), key
PY
ok $? "the added BN has weight 1, bias 0 and the source statistics"

$dembench adapt "$tmp/resnet.h5" noadapt --predictions "$tmp/p2.csv" \
	> /dev/null && same_predictions "$tmp/p2.csv" resnet_pred
ok $? "ResNet-18 NoAdapt predictions equal PyTorch's on every sample"

# shellcheck disable=SC2086
$python "$export_py" --torchscript "$tmp/softmax.pt" --cut bn \
	--task a="$tmp/a.pt" $common --out "$tmp/soft.h5" 2>"$tmp/err"
[ $? -eq 3 ] && grep -q "tail module 'soft' (Softmax)" "$tmp/err" &&
	[ ! -e "$tmp/soft.h5" ]
status=$?
ok $status "a Softmax after the cut is rejected by name, exit code 3"
[ $status -eq 0 ] || diag "$(cat "$tmp/err")"

# shellcheck disable=SC2086
$python "$export_py" --torchscript "$tmp/cnn.pt" --cut conv2 \
	--task a="$tmp/a.pt" $common --out "$tmp/conv.h5" 2>"$tmp/err"
[ $? -eq 3 ] && grep -q "tail module 'conv2' (Conv2d)" "$tmp/err"
status=$?
ok $status "a Conv2d after the cut is rejected by name"
[ $status -eq 0 ] || diag "$(cat "$tmp/err")"

# shellcheck disable=SC2086
$python "$export_py" --arch resnet18 --weights "$tmp/missing.pth" \
	--task a="$tmp/a.pt" $common --out "$tmp/x.h5" 2>"$tmp/err"
[ $? -eq 3 ] && grep -q "$tmp/missing.pth: no such weights file" "$tmp/err"
ok $? "a missing weights file is named, exit code 3"

$python "$export_py" --help | grep -q -- '--add-bn SOURCE'
ok $? "--help prints the options"

finish
