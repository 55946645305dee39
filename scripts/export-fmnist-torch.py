"""Exports the PyTorch peer of fmnist-small (/work/shared/bench/fmnist_space.py `Supernet`) to ONNX
in the PyTorch supernet convention: one mask vector input per layer (mask0..mask5),
TrainingMode.PRESERVE (BatchNormalization kept), opset 17, dynamic batch.

    /usr/bin/python3 scripts/export-fmnist-torch.py OUT.onnx [--bench-dir /work/shared/bench] [--seed 0]

Used by scripts/bench-train.ts when bnnas's own exporter (src/supernet/export.ts) is not available.
"""
import argparse, sys
ap = argparse.ArgumentParser(); ap.add_argument("out"); ap.add_argument("--bench-dir", default="/work/shared/bench"); ap.add_argument("--seed", type=int, default=0)
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
