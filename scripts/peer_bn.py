"""Which BatchNorm parameters of the PyTorch peer (fmnist_space.Supernet) train in BN-only mode,
shared by scripts/torch-step-server.py and scripts/compare-curve-peer.py (as torch_reference.py)."""
import torch.nn as nn


def trainable_bn_params(sn, mode):
    """mode "last": gamma/beta of each candidate op's last BatchNorm (the BN-NAS code); "all": every BatchNorm."""
    if mode == "last":
        params = []
        for ops in sn.choices:
            for op in ops:
                bns = [m for m in op.modules() if isinstance(m, nn.BatchNorm2d)]
                if bns: params += [bns[-1].weight, bns[-1].bias]
        return params
    return [p for m in sn.modules() if isinstance(m, nn.BatchNorm2d) for p in (m.weight, m.bias)]
