"""One PyTorch training step per request, for interleaved timing against bnnas.

    /usr/bin/python3 scripts/torch-step-server.py [--bench-dir scripts/peer] [--batch 128] [--threads 2] [--modes bn_last,bn_all,full,subnet_full]

Reads lines "MODE [ARCH]" on stdin, MODE one of --modes, ARCH optional (per layer the op index in
fmnist_space.OPS, which is also bnnas's mask position: "bn_last 1,3,5,2,6,4"); for each, runs one
step (on that path, or a uniformly sampled one) exactly as scripts/peer/torch_reference.py does
(zero_grad + forward + backward + step, BN in train mode), and prints the step's milliseconds:
  bn_last, bn_all  its bench_train: BN-only, PathNet over fmnist_space.Supernet, SGD momentum 0.9;
  full             its bench_train("full"): SPOS, every parameter of the supernet trainable (those
                   off the path get no gradient), SGD lr 0.1 momentum 0.9;
  subnet_full      its bench_subnet_train: the standalone Net(3,1,6,3,6,0), every parameter, SGD
                   lr 0.1 momentum 0.9 Nesterov weight decay 5e-5 (ARCH is ignored: a fixed net).
Only the nets of --modes are built. Prints "ready" once they are. Running both engines step by
step, alternately, makes their ratio robust to load changes on a shared machine.
"""
import argparse, os, random, sys, time
ap = argparse.ArgumentParser(); ap.add_argument("--bench-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer"))
ap.add_argument("--batch", type=int, default=128); ap.add_argument("--threads", type=int, default=2); ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--modes", default="bn_last,bn_all")
a = ap.parse_args()
sys.path.insert(0, a.bench_dir)
import torch, torch.nn as nn, torch.nn.functional as F
from fmnist_space import Supernet, Net, LAYERS, OPS, allowed
from peer_bn import trainable_bn_params

torch.set_num_threads(a.threads); torch.manual_seed(a.seed); random.seed(a.seed)
ALLOWED = [[o for o in range(len(OPS)) if allowed(l, o)] for l in range(len(LAYERS))]
SUBNET_ARCH = [3, 1, 6, 3, 6, 0]

class PathNet(nn.Module):
    def __init__(s, sn): super().__init__(); s.sn = sn
    def forward(s, x, arch):
        h = s.sn.stem(x)
        for l, o in enumerate(arch): h = s.sn.choices[l][ALLOWED[l].index(o)](h)
        return s.sn.fc(h.mean((2, 3)))

def setup(mode):
    if mode == "subnet_full":
        net = Net(SUBNET_ARCH).train()
        return (lambda x, arch: net(x)), torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-5)
    sn = Supernet(); net = PathNet(sn).train()
    if mode == "full":
        params = list(sn.parameters())
    elif mode in ("bn_last", "bn_all"):
        for p in sn.parameters(): p.requires_grad_(False)
        params = trainable_bn_params(sn, "last" if mode == "bn_last" else "all")
        for p in params: p.requires_grad_(True)
    else:
        sys.exit(f"torch-step-server: unknown mode {mode}")
    return net, torch.optim.SGD(params, lr=0.1, momentum=0.9)

nets = {m: setup(m) for m in a.modes.split(",") if m}
x = torch.randn(a.batch, 1, 28, 28); y = torch.randint(0, 10, (a.batch,))
print("ready", flush=True)
for line in sys.stdin:
    words = line.split()
    if not words: continue
    mode = words[0]
    net, opt = nets[mode]
    arch = [int(o) for o in words[1].split(",")] if len(words) > 1 else [random.choice(ALLOWED[l]) for l in range(len(LAYERS))]
    t = time.perf_counter()
    opt.zero_grad(set_to_none=True); loss = F.cross_entropy(net(x, arch), y); loss.backward(); opt.step()
    print(f"{(time.perf_counter() - t) * 1000:.3f}", flush=True)
