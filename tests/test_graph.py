"""``retrograd.diagnose.draw_graph``: the backward graph as DOT text, SVG and PNG."""

from __future__ import annotations

import re
import shutil
from collections import Counter

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.diagnose.explain import _activation_module
from retrograd.diagnose.graph import draw_graph, graph_nodes, record_modules, watch_gradients

NODE = re.compile(r'^  (\w+) \[label="((?:[^"\\]|\\.)*)"', re.MULTILINE)
EDGE = re.compile(r"^  (\w+) -> (\w+);$", re.MULTILINE)
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="needs Graphviz's dot program (apt-get install graphviz)"
)


def parse(dot: str) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """DOT text -> ({node key: label lines}, [(source, target), ...])."""
    assert dot.startswith("digraph backward {") and dot.rstrip().endswith("}")
    nodes = {key: label.split("\\n") for key, label in NODE.findall(dot)}
    edges = EDGE.findall(dot)
    assert all(source in nodes and target in nodes for source, target in edges)
    return nodes, edges


def mlp_and_loss(batch: int = 5):
    model = nn.Sequential(nn.Linear(4, 8), _activation_module("tanh"), nn.Linear(8, 3))
    x = rg.randn(batch, 4)
    return model, x


def reference_walk(tensor, names):
    """The graph through PyTorch's public view (grad_fn, next_functions), for comparison:
    a multiset of (input label, consumer label) edges and the node count."""

    def label(fn):
        if fn.name() == "AccumulateGrad":
            return names.get(id(fn.variable), "leaf tensor")
        return fn.name()

    key = lambda fn: id(fn.variable) if fn.name() == "AccumulateGrad" else id(fn)  # noqa: E731
    seen, stack, edges = {key(tensor.grad_fn)}, [tensor.grad_fn], Counter()
    while stack:
        fn = stack.pop()
        for child, _ in fn.next_functions:
            if child is None:
                continue
            edges[(label(child), label(fn))] += 1
            if key(child) not in seen:
                seen.add(key(child))
                stack.append(child)
    return edges, len(seen)


def test_dot_text_has_every_node_and_edge_of_the_graph():
    model, x = mlp_and_loss()
    loss = (model(x) ** 2).mean()
    params = dict(model.named_parameters())
    nodes, edges = parse(draw_graph(loss, params=params))
    names = {id(p): name for name, p in params.items()}
    expected_edges, expected_count = reference_walk(loss, names)
    assert len(nodes) == expected_count == 9
    assert Counter((nodes[s][0], nodes[t][0]) for s, t in edges) == expected_edges
    # arrows follow the data: parameters feed Linear, the root consumes and feeds nothing
    root = next(key for key, label in nodes.items() if label[0] == "MeanBackward0")
    assert all(source != root for source, _ in edges)
    weight = next(key for key, label in nodes.items() if label[0] == "2.weight")
    assert [nodes[t][0] for s, t in edges if s == weight] == ["LinearBackward0"]


def test_labels_show_op_names_and_output_shapes():
    model, x = mlp_and_loss(batch=5)
    loss = (model(x) ** 2).mean()
    nodes, _ = parse(draw_graph(loss, params=dict(model.named_parameters())))
    labels = {tuple(label[:2]) for label in nodes.values()}
    assert {
        ("MeanBackward0", "()"),
        ("PowBackward0", "(5, 3)"),
        ("LinearBackward0", "(5, 3)"),
        ("TanhBackward0", "(5, 8)"),
        ("LinearBackward0", "(5, 8)"),
        ("0.weight", "(8, 4)"),
        ("0.bias", "(8,)"),
        ("2.weight", "(3, 8)"),
        ("2.bias", "(3,)"),
    } == labels


def test_no_gradient_norms_before_backward_or_when_hidden():
    model, x = mlp_and_loss()
    loss = (model(x) ** 2).mean()
    assert "‖grad‖" not in draw_graph(loss)
    loss.backward()
    assert "‖grad‖" in draw_graph(loss)
    assert "‖grad‖" not in draw_graph(loss, show_grad=False)


def test_gradient_norms_after_backward_are_the_true_norms():
    model, x = mlp_and_loss()
    hidden = model[1](model[0](x))
    hidden.retain_grad()
    out = model[2](hidden)
    loss = (out**2).mean()
    with watch_gradients(loss):
        loss.backward()
    params = dict(model.named_parameters())
    nodes, _ = parse(draw_graph(loss, params=params))
    by_name = {label[0]: label for label in nodes.values() if label[0] not in ("LinearBackward0",)}
    for name, p in params.items():
        assert by_name[name][2] == f"‖grad‖ = {np.linalg.norm(p.grad.numpy()):.4g}"
    # the gradient reaching TanhBackward0 is the gradient of its output, `hidden`
    assert by_name["TanhBackward0"][2] == f"‖grad‖ = {np.linalg.norm(hidden.grad.numpy()):.4g}"
    assert by_name["MeanBackward0"][2] == "‖grad‖ = 1"
    expected_pow = np.linalg.norm(np.full(out.shape, 1 / out.numel()))
    assert by_name["PowBackward0"][2] == f"‖grad‖ = {expected_pow:.4g}"


def test_retained_gradients_label_intermediate_nodes_without_a_watch():
    x = rg.randn(3, 2, requires_grad=True)
    y = x.exp()
    y.retain_grad()
    loss = (y * 2).sum()
    loss.backward()
    nodes, _ = parse(draw_graph(loss, params={"x": x}))
    exp_label = next(label for label in nodes.values() if label[0] == "ExpBackward0")
    assert exp_label[2] == f"‖grad‖ = {np.linalg.norm(y.grad.numpy()):.4g}"
    mul_label = next(label for label in nodes.values() if label[0] == "MulBackward0")
    assert len(mul_label) == 2  # nothing known about it
    leaf = next(label for label in nodes.values() if label[0] == "x")
    assert leaf[2] == f"‖grad‖ = {np.linalg.norm(x.grad.numpy()):.4g}"


def test_shared_inputs_and_unnamed_leaves():
    x = rg.randn(4, requires_grad=True)
    loss = (x * x).sum()
    nodes, edges = parse(draw_graph(loss))
    assert len(nodes) == 3
    leaf = next(key for key, label in nodes.items() if label[0] == "leaf tensor")
    mul = next(key for key, label in nodes.items() if label[0] == "MulBackward0")
    assert edges.count((leaf, mul)) == 2  # x enters the product twice


def test_a_long_chain_needs_no_recursion():
    x = rg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    nodes, edges = parse(draw_graph(y.sum()))
    assert len(nodes) == 5002 and len(edges) == 5001
    assert len(graph_nodes(y)) == 5001


def test_collapsed_modules_draw_one_box_per_child():
    model, x = mlp_and_loss()
    with record_modules(model):
        out = model(x)
    loss = (out**2).mean()
    loss.backward()
    nodes, edges = parse(draw_graph(loss, params=dict(model.named_parameters()), collapse_modules=model))
    labels = dict(nodes)
    assert len(nodes) == 5  # three children, Pow, Mean
    boxes = {label[0]: key for key, label in labels.items() if key.startswith("m_")}
    assert set(boxes) == {"0: Linear", "1: Tanh", "2: Linear"}
    assert (boxes["0: Linear"], boxes["1: Tanh"]) in edges
    assert (boxes["1: Tanh"], boxes["2: Linear"]) in edges
    assert labels[boxes["1: Tanh"]][1] == "(5, 8)"
    first = model[0]
    theta = np.concatenate([first.weight.grad.numpy().ravel(), first.bias.grad.numpy().ravel()])
    assert labels[boxes["0: Linear"]][2] == f"‖∂L/∂θ‖ = {np.linalg.norm(theta):.4g}"
    # after leaving the block, forward passes are no longer recorded
    assert not model[0]._forward_hooks and not model[0]._forward_pre_hooks


def test_collapsing_needs_a_recorded_forward():
    model, x = mlp_and_loss()
    loss = model(x).sum()
    with pytest.raises(ValueError, match="record_modules"):
        draw_graph(loss, collapse_modules=nn.Sequential(nn.Linear(1, 1)))


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a Tensor, got list"):
        draw_graph([1.0])
    with pytest.raises(ValueError, match="does not require grad"):
        draw_graph(rg.ones(3).sum())
    x = rg.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="format must be one of dot, svg, png, got 'pdf'"):
        draw_graph(x.sum(), format="pdf")
    nodes, edges = parse(draw_graph(x))  # a leaf alone is a one-node graph
    assert len(nodes) == 1 and edges == []


def test_dot_file_is_written(tmp_path):
    x = rg.ones(2, requires_grad=True)
    target = tmp_path / "graph.dot"
    text = draw_graph(x.exp().sum(), path=target)
    assert target.read_text(encoding="utf-8") == text


def test_without_dot_an_image_request_warns_and_returns_dot(monkeypatch, tmp_path):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    x = rg.ones(2, requires_grad=True)
    with pytest.warns(RuntimeWarning, match="Graphviz 'dot' program was not found.*graph.dot"):
        result = draw_graph(x.exp().sum(), format="png", path=tmp_path / "graph.png")
    assert result.startswith("digraph backward {")
    assert (tmp_path / "graph.dot").read_text(encoding="utf-8") == result
    assert not (tmp_path / "graph.png").exists()


@needs_dot
def test_svg_and_png_are_rendered_by_dot(tmp_path):
    model, x = mlp_and_loss()
    loss = (model(x) ** 2).mean()
    loss.backward()
    svg = draw_graph(loss, params=dict(model.named_parameters()), format="svg")
    assert "<svg" in svg and "LinearBackward0" in svg and "2.weight" in svg
    png_path = tmp_path / "graph.png"
    png = draw_graph(loss, params=dict(model.named_parameters()), format="png", path=png_path)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png_path.read_bytes() == png
