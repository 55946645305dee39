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
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from fmnist_space import Supernet, Net
from peer_bn import trainable_bn_params

def read_idx(path):
    """IDX file (gzipped or raw): magic 0x0000 dtype ndim, big-endian int32 dims, uint8 data."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f: raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)

def find(d, stem):
    for name in (stem + ".gz", stem):
        if os.path.exists(os.path.join(d, name)): return os.path.join(d, name)
    sys.exit(f"compare-curve-peer: no {stem}[.gz] in {d}")

def load_onnx_weights(net, path):
    """Copies the subnet ONNX file's initializers into `net` (a fmnist_space.Net of the same arch).

    The names differ (ONNX 'layers.2.mb_k5_e6.conv1.weight' vs torch 'layers.2.expand.weight'), so
    the two are matched by ORDER: the ONNX graph's Conv / BatchNormalization / Gemm nodes in node
    order against the Net's Conv2d / BatchNorm2d / Linear modules in module order (both follow the
    forward: stem, then per layer expand, bn1, dw, bn2, project, bn3, then the classifier). Each
    pair must agree on the kind, every shape, and the attributes that change the computation
    (conv stride, padding, groups, bias; BN epsilon; Gemm transB); the BN momentum is carried over.
    Any mismatch stops the run. The caller also compares one forward's logits with bnnas's."""
    import onnx
    from onnx import numpy_helper
    model = onnx.load(path)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    attrs = lambda n: {x.name: onnx.helper.get_attribute_value(x) for x in n.attribute}
    nodes = [n for n in model.graph.node if n.op_type in ("Conv", "BatchNormalization", "Gemm")]
    mods = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.Linear))]
    if len(nodes) != len(mods): sys.exit(f"compare-curve-peer: {path} has {len(nodes)} Conv/BN/Gemm nodes, the Net {len(mods)} Conv2d/BatchNorm2d/Linear modules")
    def put(t, name):
        if name not in inits: sys.exit(f"compare-curve-peer: '{name}' is not an initializer of {path}")
        v = torch.from_numpy(inits[name].astype(np.float32))
        if tuple(v.shape) != tuple(t.shape): sys.exit(f"compare-curve-peer: '{name}' has shape {tuple(v.shape)}, its torch tensor {tuple(t.shape)}")
        with torch.no_grad(): t.copy_(v)
    mapping = []
    for n, m in zip(nodes, mods):
        at = attrs(n)
        if n.op_type == "Conv":
            if not isinstance(m, nn.Conv2d): sys.exit(f"compare-curve-peer: node {n.name or n.output[0]} (Conv) meets a {type(m).__name__}")
            ok = (list(at.get("strides", [1, 1])) == list(m.stride) and list(at.get("pads", [0, 0, 0, 0])) == list(m.padding) * 2
                  and at.get("group", 1) == m.groups and list(at.get("dilations", [1, 1])) == list(m.dilation) and (len(n.input) > 2 and n.input[2]) == (m.bias is not None))
            if not ok: sys.exit(f"compare-curve-peer: Conv {n.input[1]} {at} does not match {m}")
            put(m.weight, n.input[1]); mapping.append((n.input[1], m.weight))
            if m.bias is not None: put(m.bias, n.input[2]); mapping.append((n.input[2], m.bias))
        elif n.op_type == "BatchNormalization":
            if not isinstance(m, nn.BatchNorm2d): sys.exit(f"compare-curve-peer: node {n.input[1]} (BatchNormalization) meets a {type(m).__name__}")
            m.eps = float(at.get("epsilon", 1e-5)); m.momentum = 1.0 - float(at.get("momentum", 0.9))
            put(m.weight, n.input[1]); put(m.bias, n.input[2]); put(m.running_mean, n.input[3]); put(m.running_var, n.input[4])
            mapping += [(n.input[1], m.weight), (n.input[2], m.bias)]
        else:
            if not isinstance(m, nn.Linear): sys.exit(f"compare-curve-peer: node {n.input[1]} (Gemm) meets a {type(m).__name__}")
            if at.get("transB", 0) != 1 or at.get("transA", 0) != 0 or at.get("alpha", 1.0) != 1.0 or at.get("beta", 1.0) != 1.0: sys.exit(f"compare-curve-peer: Gemm {n.input[1]} {at}: expected transB=1, alpha=beta=1")
            put(m.weight, n.input[1]); put(m.bias, n.input[2]); mapping += [(n.input[1], m.weight), (n.input[2], m.bias)]
    params = {id(p) for p in net.parameters()}
    if {id(p) for _, p in mapping} != params: sys.exit("compare-curve-peer: some Net parameters got no ONNX initializer")
    return mapping

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
