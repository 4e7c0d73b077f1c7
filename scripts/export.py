"""``digitpad-export``: the network as an ONNX model, to run where numpy is not.

    digitpad-export --onnx /tmp/digitpad.onnx                         # weights/digitpad.npz
    digitpad-export --onnx /tmp/blog.onnx --weights weights/blog.npz

The graph is built with the ``onnx`` package's helpers from the weights file's layers: Reshape to
NCHW for the convolutions (Conv with the stored kernels, which are already ONNX's (M, C, k, k)
cross-correlation), Relu, MaxPool 2×2, a Transpose back to digitpad's channels-last order before
Flatten (so the dense weights apply unchanged), Gemm with ``transB=1`` for each dense layer
(``Z = A·Wᵀ + b``), dropout left out (the identity at inference), then division by the stored
temperature and Softmax. Input ``input``: float32 [N, 784], the prepared pixels, white ink on
black in [0, 1]; output ``probabilities``: float32 [N, outputs], the network's calibrated
softmax (for the 11-output model the 11th is "not a digit"). Opset 17, checked by
``onnx.checker``. Needs the ``export`` extra: ``pip install -e '.[export]'``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from model import weights
from model.network import Network
from scripts import project_root

OPSET = 17


def to_onnx(net: Network, name: str) -> Any:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits: list[Any] = []
    current = "input"

    def const(label: str, value: Any) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), label))
        return label

    def node(op: str, inputs: list[str], **attrs: Any) -> None:
        nonlocal current
        out = f"{op.lower()}_{len(nodes)}"
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        current = out

    for i, layer in enumerate(net.layers):
        kind = layer.kind
        if kind == "image":
            h, w, c = layer.config()["height"], layer.config()["width"], layer.config()["channels"]
            node("Reshape", [current, const(f"shape_{i}", np.array([-1, h, w, c], np.int64))])
            node("Transpose", [current], perm=[0, 3, 1, 2])  # NHWC → NCHW
        elif kind == "conv2d":
            cfg = layer.config()
            W = np.ascontiguousarray(layer.params["W"], dtype=np.float32)  # (F, C, k, k)
            p = cfg["pad"]
            node("Conv", [current, const(f"W_{i}", W), const(f"b_{i}", layer.params["b"].astype(np.float32))],
                 kernel_shape=[cfg["k"], cfg["k"]], pads=[p, p, p, p], strides=[1, 1])
        elif kind == "relu":
            node("Relu", [current])
        elif kind == "maxpool2d":
            node("MaxPool", [current], kernel_shape=[2, 2], strides=[2, 2])
        elif kind == "flatten":
            node("Transpose", [current], perm=[0, 2, 3, 1])  # back to digitpad's channels-last order
            node("Flatten", [current], axis=1)
        elif kind == "dense":
            W = layer.params["W"].astype(np.float32)  # (n_out, n_in)
            b = layer.params["b"].astype(np.float32).reshape(-1)
            node("Gemm", [current, const(f"W_{i}", W), const(f"b_{i}", b)], transB=1)
        elif kind == "dropout":
            continue  # the identity at inference
        else:
            raise ValueError(f"layer {kind!r} has no ONNX translation")
    node("Div", [current, const("temperature", np.array(net.temperature, np.float32))])
    nodes.append(helper.make_node("Softmax", [current], ["probabilities"], axis=1))
    outputs = net.config()[-1]["n_out"]
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 784])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", outputs])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="digitpad")
    model.ir_version = 9  # readable by onnxruntime releases of the last years
    onnx.checker.check_model(model)
    return model


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="digitpad-export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--onnx", type=Path, required=True, help="where to write the .onnx file")
    p.add_argument("--weights", type=Path, default=project_root() / "weights" / "digitpad.npz",
                   help="(default: %(default)s)")
    args = p.parse_args(argv)
    try:
        import onnx
    except ImportError:
        print("error: the onnx package is missing: pip install -e '.[export]'", file=sys.stderr)
        return 2
    try:
        net, meta = weights.load(args.weights)
    except weights.WeightsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    model = to_onnx(net, str(meta.get("name") or args.weights.stem))
    args.onnx.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, args.onnx)
    print(f"wrote {args.onnx}: {meta.get('name')} ({weights.version(args.weights)}), input [N, 784] float32, "
          f"output probabilities [N, {net.config()[-1]['n_out']}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
