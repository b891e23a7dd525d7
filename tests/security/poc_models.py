"""Hostile ONNX models rebuilt from the probe's descriptions (tests only, made in memory)."""

from __future__ import annotations

import numpy as np

INT64_MAX = 2 ** 63 - 1


def _onnx():
    import onnx
    from onnx import TensorProto, helper

    return onnx, TensorProto, helper


def _external(name: str, data_type: int, dims: list[int]):
    onnx, TensorProto, helper = _onnx()
    tensor = TensorProto()
    tensor.name = name
    tensor.data_type = data_type
    tensor.dims.extend(dims)
    return tensor


def external_data_classifier(location: str = "secret_key", n_classes: int = 2,
                             n_features: int = 4) -> bytes:
    """A 'classifier' whose weight matrix is external data read from `location` (relative to
    the working directory): its 'probabilities' are that file's bytes."""
    onnx, TensorProto, helper = _onnx()
    weight = _external("W", TensorProto.UINT8, [n_features])
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", str(n_features))):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    nodes = [
        helper.make_node("Cast", ["W"], ["Wf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["features", "Wf"], ["scaled"]),
        helper.make_node("Slice", ["scaled", "starts", "ends", "axes"], ["probabilities"]),
    ]
    inits = [weight,
             helper.make_tensor("starts", TensorProto.INT64, [1], [0]),
             helper.make_tensor("ends", TensorProto.INT64, [1], [n_classes]),
             helper.make_tensor("axes", TensorProto.INT64, [1], [1])]
    graph = helper.make_graph(
        nodes, "exfil",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, n_classes])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def endless_loop_classifier(n_classes: int = 2, n_features: int = 4,
                            trip_count: int = INT64_MAX, from_input: bool = False) -> bytes:
    """Under 1 KB: a Loop of `trip_count` iterations (condition always true) in front of a
    valid-looking classifier output. `from_input`: the trip count is computed at run time
    (trip_count minus the sum of the input), so no static check can read it."""
    onnx, TensorProto, helper = _onnx()
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Add", ["acc_in", "one"], ["acc_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [])],
        [helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])])
    loop_count = "M"
    nodes = []
    if from_input:
        loop_count = "M_run"
        nodes += [helper.make_node("ReduceSum", ["features"], ["fsum"], keepdims=0),
                  helper.make_node("Cast", ["fsum"], ["fsum64"], to=TensorProto.INT64),
                  helper.make_node("Sub", ["M", "fsum64"], ["M_run"])]
    nodes += [
        helper.make_node("Loop", [loop_count, "cond", "acc0"], ["acc"], body=body),
        helper.make_node("ReduceSum", ["features"], ["total"], keepdims=1),
        helper.make_node("Mul", ["total", "acc"], ["scaled"]),
        helper.make_node("Expand", ["scaled", "shape"], ["probabilities"]),
    ]
    inits = [helper.make_tensor("M", TensorProto.INT64, [], [trip_count]),
             helper.make_tensor("cond", TensorProto.BOOL, [], [True]),
             helper.make_tensor("acc0", TensorProto.FLOAT, [], [0.0]),
             helper.make_tensor("shape", TensorProto.INT64, [2], [1, n_classes])]
    graph = helper.make_graph(
        nodes, "spin",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, n_classes])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def custom_domain_model(domain: str = "com.example", op: str = "Exfiltrate") -> bytes:
    onnx, TensorProto, helper = _onnx()
    graph = helper.make_graph(
        [helper.make_node(op, ["features"], ["probabilities"], domain=domain)], "custom",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                    helper.make_opsetid(domain, 1)])
    model.ir_version = 8
    return model.SerializeToString()


def subgraph_external_data_model() -> bytes:
    """External data hidden in an If branch's Constant attribute."""
    onnx, TensorProto, helper = _onnx()
    hidden = _external("leak", TensorProto.FLOAT, [2])
    hidden.data_location = TensorProto.EXTERNAL
    entry = hidden.external_data.add()
    entry.key, entry.value = "location", "secret_key"
    branch = helper.make_graph(
        [helper.make_node("Constant", [], ["out"], value=hidden)], "then", [],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2])])
    other = helper.make_graph(
        [helper.make_node("Constant", [], ["out"],
                          value=helper.make_tensor("z", TensorProto.FLOAT, [2], [0, 0]))],
        "else", [], [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2])])
    graph = helper.make_graph(
        [helper.make_node("If", ["c"], ["probabilities"], then_branch=branch,
                          else_branch=other)], "hidden",
        [helper.make_tensor_value_info("c", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def feature_rows(n: int = 1, n_features: int = 4) -> np.ndarray:
    return np.ones((n, n_features), np.float32)
