"""Shared by the PyTorch peers that read bnnas files: IDX images, and a bnnas subnet's ONNX weights
loaded into scripts/peer/fmnist_space.py's Net (scripts/compare-curve-peer.py, the proxy oracle
test/fixtures/proxies/proxy_oracle.py)."""
import gzip, os, sys
import numpy as np, torch, torch.nn as nn

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
    sys.exit(f"onnx_peer: no {stem}[.gz] in {d}")

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
    if len(nodes) != len(mods): sys.exit(f"onnx_peer: {path} has {len(nodes)} Conv/BN/Gemm nodes, the Net {len(mods)} Conv2d/BatchNorm2d/Linear modules")
    def put(t, name):
        if name not in inits: sys.exit(f"onnx_peer: '{name}' is not an initializer of {path}")
        v = torch.from_numpy(inits[name].astype(np.float32))
        if tuple(v.shape) != tuple(t.shape): sys.exit(f"onnx_peer: '{name}' has shape {tuple(v.shape)}, its torch tensor {tuple(t.shape)}")
        with torch.no_grad(): t.copy_(v)
    mapping = []
    for n, m in zip(nodes, mods):
        at = attrs(n)
        if n.op_type == "Conv":
            if not isinstance(m, nn.Conv2d): sys.exit(f"onnx_peer: node {n.name or n.output[0]} (Conv) meets a {type(m).__name__}")
            ok = (list(at.get("strides", [1, 1])) == list(m.stride) and list(at.get("pads", [0, 0, 0, 0])) == list(m.padding) * 2
                  and at.get("group", 1) == m.groups and list(at.get("dilations", [1, 1])) == list(m.dilation) and (len(n.input) > 2 and n.input[2]) == (m.bias is not None))
            if not ok: sys.exit(f"onnx_peer: Conv {n.input[1]} {at} does not match {m}")
            put(m.weight, n.input[1]); mapping.append((n.input[1], m.weight))
            if m.bias is not None: put(m.bias, n.input[2]); mapping.append((n.input[2], m.bias))
        elif n.op_type == "BatchNormalization":
            if not isinstance(m, nn.BatchNorm2d): sys.exit(f"onnx_peer: node {n.input[1]} (BatchNormalization) meets a {type(m).__name__}")
            m.eps = float(at.get("epsilon", 1e-5)); m.momentum = 1.0 - float(at.get("momentum", 0.9))
            put(m.weight, n.input[1]); put(m.bias, n.input[2]); put(m.running_mean, n.input[3]); put(m.running_var, n.input[4])
            mapping += [(n.input[1], m.weight), (n.input[2], m.bias)]
        else:
            if not isinstance(m, nn.Linear): sys.exit(f"onnx_peer: node {n.input[1]} (Gemm) meets a {type(m).__name__}")
            if at.get("transB", 0) != 1 or at.get("transA", 0) != 0 or at.get("alpha", 1.0) != 1.0 or at.get("beta", 1.0) != 1.0: sys.exit(f"onnx_peer: Gemm {n.input[1]} {at}: expected transB=1, alpha=beta=1")
            put(m.weight, n.input[1]); put(m.bias, n.input[2]); mapping += [(n.input[1], m.weight), (n.input[2], m.bias)]
    params = {id(p) for p in net.parameters()}
    if {id(p) for _, p in mapping} != params: sys.exit("onnx_peer: some Net parameters got no ONNX initializer")
    return mapping

