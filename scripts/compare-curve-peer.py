"""The PyTorch side of scripts/compare-curve.ts, replaying bnnas's plan step for step, in one of two modes
(the plan's "weights"):

  bn   BN-only supernet training of fmnist-small with the PyTorch peer (scripts/peer/fmnist_space.py's
       Supernet), one path per step;  STATE is the Supernet state_dict whose weights are in the ONNX
       file bnnas trains (export-fmnist-torch.py --state-dict).
  all  full-weight training of a standalone subnet: fmnist_space.Net(arch), every parameter;  STATE is
       the subnet's ONNX file (a bnnas extract-subnet output), whose initializers are loaded into the
       Net (see load_onnx_weights: matched by graph order and checked by type, shape and attributes;
       then one eval-mode forward's logits are compared with bnnas's, given in the plan).

    /usr/bin/python3 scripts/compare-curve-peer.py PLAN.json STATE [--bench-dir scripts/peer] [--threads 2] [--perturb 1e-6 --perturb-seed 1]

PLAN.json (written by compare-curve.ts) holds the recipe (per-step lr, momentum, Nesterov, weight
decay, label smoothing, BN mode or arch), the Fashion-MNIST directory and normalisation, and per step
the image indices of the batch (and in bn mode the path: per layer the index among that layer's
allowed ops). Both sides start from the same weights and see the same batches (and paths).
Weight decay (mode all) applies to conv and linear weights only, as bnnas's trainer does.
Prints one JSON line: {"losses": [...], "ms_per_step": median, "logits_max_abs_diff": (mode all)}.
"""
import argparse, gzip, json, os, statistics, sys, time
ap = argparse.ArgumentParser(); ap.add_argument("plan"); ap.add_argument("state")
ap.add_argument("--bench-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer")); ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--perturb", type=float, default=0.0, help="add N(0, this^2) noise to every trained parameter before step 1 (a control: how far PyTorch's own curve moves under float-rounding-sized changes)")
ap.add_argument("--perturb-seed", type=int, default=1)
a = ap.parse_args()
sys.path.insert(0, a.bench_dir)
sys.path.insert(1, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer"))  # onnx_peer
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from fmnist_space import Supernet, Net
from peer_bn import trainable_bn_params

from onnx_peer import read_idx, find, load_onnx_weights

plan = json.load(open(a.plan))
torch.set_num_threads(a.threads)
images = read_idx(find(plan["data_dir"], "train-images-idx3-ubyte"))
labels = read_idx(find(plan["data_dir"], "train-labels-idx1-ubyte")).astype(np.int64)
mean, std = plan["normalize"]["mean"][0], plan["normalize"]["std"][0]
batch_x = lambda idx: torch.from_numpy(((images[idx].astype(np.float32) / 255 - mean) / std)[:, None])
full = plan.get("weights", "bn") == "all"
logits_diff = None

if full:
    net = Net(plan["arch"])
    mapping = load_onnx_weights(net, a.state)
    # The mapping's check: one eval-mode forward (running statistics) on the first batch, against bnnas's logits.
    net.eval()
    with torch.no_grad(): logits = net(batch_x(plan["indices"][0]))
    want = torch.tensor(plan["check_logits"], dtype=torch.float32)
    logits_diff = float((logits - want).abs().max())
    print(f"compare-curve-peer: eval logits vs bnnas (onnxruntime) on batch 1: max |diff| {logits_diff:.2e} (max |logit| {float(want.abs().max()):.3f})", file=sys.stderr)
    if not logits_diff <= 1e-4 * max(1.0, float(want.abs().max())): sys.exit("compare-curve-peer: the loaded Net does not compute what the ONNX subnet does: the weight mapping is wrong")
    net.train()
    params = [p for p in net.parameters()]
    decay = [p for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) for p in [m.weight]]
    decay_ids = {id(p) for p in decay}
    groups = [{"params": decay, "weight_decay": plan["weight_decay"]}, {"params": [p for p in params if id(p) not in decay_ids], "weight_decay": 0.0}]
    forward = lambda x, step: net(x)
else:
    sn = Supernet(); sn.load_state_dict(torch.load(a.state)); sn.train()
    for p in sn.parameters(): p.requires_grad_(False)
    params = trainable_bn_params(sn, plan["bn"])
    for p in params: p.requires_grad_(True)
    groups = [{"params": params, "weight_decay": 0.0}]
    def forward(x, step):
        h = sn.stem(x)
        for l, p in enumerate(plan["paths"][step]): h = sn.choices[l][p](h)
        return sn.fc(h.mean((2, 3)))
if a.perturb:
    g = torch.Generator().manual_seed(a.perturb_seed)
    with torch.no_grad():
        for p in params: p.add_(torch.randn(p.shape, generator=g) * a.perturb)
lrs = plan.get("lrs") or [plan["lr"]] * len(plan["indices"])
opt = torch.optim.SGD(groups, lr=lrs[0], momentum=plan["momentum"], nesterov=bool(plan.get("nesterov", False)))

losses, times = [], []
for step, idx in enumerate(plan["indices"]):
    x = batch_x(idx)
    y = torch.from_numpy(labels[idx])
    for group in opt.param_groups: group["lr"] = lrs[step]
    t = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(forward(x, step), y, label_smoothing=plan["label_smoothing"])
    loss.backward(); opt.step()
    times.append((time.perf_counter() - t) * 1000)
    losses.append(float(loss))
out = {"losses": losses, "ms_per_step": statistics.median(times)}
if logits_diff is not None: out["logits_max_abs_diff"] = logits_diff
print(json.dumps(out))
