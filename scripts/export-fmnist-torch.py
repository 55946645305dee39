"""Exports the PyTorch peer of fmnist-small (scripts/peer/fmnist_space.py `Supernet`) to ONNX
in the PyTorch supernet convention: one mask vector input per layer (mask0..mask5),
TrainingMode.PRESERVE (BatchNormalization kept), opset 17, dynamic batch.

    /usr/bin/python3 scripts/export-fmnist-torch.py OUT.onnx [--bench-dir scripts/peer] [--seed 0] [--oracle OUT.json] [--state-dict OUT.pt]

Used by scripts/bench-train.ts when bnnas's own exporter (src/supernet/export.ts) is not available.
"""
import argparse, os, sys
ap = argparse.ArgumentParser(); ap.add_argument("out"); ap.add_argument("--bench-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer")); ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--oracle", help="also write PyTorch's loss and BN gradients of two train-mode steps (bn all) to this JSON file")
ap.add_argument("--state-dict", help="also save the exported Supernet's state_dict (the exact weights in the ONNX file) to this .pt file, for scripts/compare-curve-peer.py")
a = ap.parse_args()
sys.path.insert(0, a.bench_dir)
import torch, onnx
from fmnist_space import Supernet, LAYERS, OPS, allowed

torch.manual_seed(a.seed)
K = [sum(1 for o in range(len(OPS)) if allowed(l, o)) for l in range(len(LAYERS))]

class Wrapped(torch.nn.Module):
    def __init__(s): super().__init__(); s.net = Supernet()
    def forward(s, x, *masks): return s.net(x, masks)

net = Wrapped().eval()
# torch.onnx deduplicates initializers with equal values (every fresh BN has gamma=1, beta=0,
# mean=0, var=1) and reads the copies through Identity nodes; tiny distinct perturbations keep
# one initializer per BN parameter, as a trained supernet has.
with torch.no_grad():
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.add_(torch.rand_like(m.weight) * 1e-3); m.bias.add_(torch.rand_like(m.bias) * 1e-3)
            m.running_mean.add_(torch.rand_like(m.running_mean) * 1e-3); m.running_var.add_(torch.rand_like(m.running_var) * 1e-3)
args = (torch.randn(2, 1, 28, 28), *[torch.eye(k)[0] for k in K])
names = [f"mask{l}" for l in range(len(LAYERS))]
torch.onnx.export(net, args, a.out, training=torch.onnx.TrainingMode.PRESERVE, opset_version=17,
                  input_names=["x", *names], output_names=["logits"],
                  dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}})
onnx.checker.check_model(onnx.load(a.out))
print(a.out, K)
if a.state_dict: torch.save(net.net.state_dict(), a.state_dict)

if a.oracle:
    # Oracle for the engine (test/train/engine-torch-fmnist.test.ts): like torch-tiny's train_step,
    # on a space with ReLU6, residual adds, strided depthwise convs and a mean-pool head.
    import json, torch.nn as nn
    cases = []
    g = torch.Generator().manual_seed(a.seed + 1)
    for arch in ([0, 2, 4, 0, 6, 3], [5, 1, 6, 2, 3, 6]):
        net_t = Wrapped(); net_t.load_state_dict(net.state_dict()); net_t.train()
        for p in net_t.parameters(): p.requires_grad_(False)
        bns = {n: m for n, m in net_t.named_modules() if isinstance(m, nn.BatchNorm2d)}
        for m in bns.values(): m.weight.requires_grad_(True); m.bias.requires_grad_(True)
        # A batch whose path BN outputs all stay 1e-4 away from the ReLU/ReLU6 kinks (0 and 6): at a
        # kink, float rounding decides whether an element passes gradient, which would make the
        # comparison depend on last-bit differences rather than on the engine's correctness.
        path = ["net.stem."] + [f"net.choices.{l}.{p}." for l, p in enumerate(arch)]
        for attempt in range(50):
            xb = torch.randn(8, 1, 28, 28, generator=g); yb = torch.randint(0, 10, (8,), generator=g)
            outs = []
            hooks = [m.register_forward_hook(lambda mod, i, o: outs.append(o.detach())) for n, m in bns.items() if any(n.startswith(q) or n + "." == q for q in path) or n.startswith("net.stem")]
            with torch.no_grad(): net_t(xb, *[torch.eye(k)[p] for k, p in zip(K, arch)])
            for h in hooks: h.remove()
            if not any(((o.abs() < 1e-4) | ((o - 6).abs() < 1e-4)).any() for o in outs): break
        net_t.load_state_dict(net.state_dict())
        loss = nn.functional.cross_entropy(net_t(xb, *[torch.eye(k)[p] for k, p in zip(K, arch)]), yb, label_smoothing=0.1)
        loss.backward()
        grads = {}
        for n, m in bns.items():
            if m.weight.grad is not None and m.weight.grad.abs().sum() > 0:
                grads[n + ".weight"] = m.weight.grad.tolist(); grads[n + ".bias"] = m.bias.grad.tolist()
        cases.append({"arch": arch, "input": xb.flatten().tolist(), "labels": yb.tolist(), "label_smoothing": 0.1, "loss": float(loss), "grads": grads})
    json.dump({"cases": cases}, open(a.oracle, "w"))
