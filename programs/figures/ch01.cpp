// The figures of chapter 1 (figures.hpp says how a figure is made).
#include "01_backprop_1d/backprop_1d.hpp"
#include "figures.hpp"

namespace course::figures {

namespace {

const std::string gradient_colour = "#D55E00";  // vermillion: the gradients, on dashed edges
const std::string sum_colour = "#009E73";       // green: where two gradients meet and add

std::string forward_edge(const std::string& from, const std::string& to, const std::string& label) {
    return "  " + from + " -> " + to + " [label=" + quoted(label) + "];\n";
}

// Drawn as the forward edge with the arrowhead at its start: the gradient flows right to left, while the
// graph keeps its left-to-right layout.
std::string backward_edge(const std::string& from, const std::string& to, const std::string& label) {
    return "  " + from + " -> " + to + " [dir=back, color=" + quoted(gradient_colour) +
           ", fontcolor=" + quoted(gradient_colour) + ", style=dashed, label=" + quoted(label) + "];\n";
}

const std::string graph_head =
    "digraph G {\n"
    "  rankdir=LR; bgcolor=white; nodesep=0.35; ranksep=0.9;\n"
    "  node [fontname=\"DejaVu Sans\", fontsize=13];\n"
    "  edge [fontname=\"DejaVu Sans\", fontsize=12];\n";

// Section 3's worked example as a graph: the forward values on the black edges (left to right), the
// gradients on the dashed edges (right to left), all computed by the reference functions.
Figure linear_graph() {
    const double x = 2, w = 3, b = 1, t = 10;
    const double y = linear_scalar_forward(x, w, b);
    const double L = squared_loss(y, t);
    const double dy = squared_loss_backward(y, t);
    const LinearScalarGrads g = linear_scalar_backward(dy, x, w);
    std::string s = graph_head;
    s += "  x [shape=plaintext, label=\"x\"]; w [shape=plaintext, label=\"w\"]; b [shape=plaintext, label=\"b\"];\n"
         "  t [shape=plaintext, label=\"t\"]; L [shape=plaintext, label=\"L\"];\n"
         "  linear [shape=box, style=rounded, label=\"linear\\ny = w x + b\"];\n"
         "  loss [shape=box, style=rounded, label=\"loss\\nL = (y - t)²\"];\n";
    s += forward_edge("x", "linear", "x = " + num(x)) + forward_edge("w", "linear", "w = " + num(w)) +
         forward_edge("b", "linear", "b = " + num(b)) + forward_edge("linear", "loss", "y = " + num(y)) +
         forward_edge("t", "loss", "t = " + num(t)) + forward_edge("loss", "L", "L = " + num(L));
    s += backward_edge("x", "linear", "∂L/∂x = " + num(g.dx)) + backward_edge("w", "linear", "∂L/∂w = " + num(g.dw)) +
         backward_edge("b", "linear", "∂L/∂b = " + num(g.db)) + backward_edge("linear", "loss", "dy = " + num(dy)) +
         backward_edge("loss", "L", "∂L/∂L = 1");
    s += "}\n";
    return {"01_backprop_1d", "linear_graph", Kind::graph, 0, 0, 0, s};
}

// Section 4's worked example: w feeds the linear node (y = w x + b) and the multiply node (z = w y). The
// two gradients that come back along w's two edges meet at the green "+" node and add. The numbers of the
// nodes come from the reference functions node by node; the parts of dw and their sum come from
// shared_weight_gradients.
Figure fork_graph() {
    const double x = 4, w = 3, b = -5, t = 25;
    const double y = linear_scalar_forward(x, w, b);
    const double z = linear_scalar_forward(y, w, 0);  // the multiply node z = w y is a linear node with bias 0
    const double L = squared_loss(z, t);
    const double dz = squared_loss_backward(z, t);
    const double dy = linear_scalar_backward(dz, y, w).dx;
    const SharedWeightGrads g = shared_weight_gradients(x, w, b, t);
    std::string s = graph_head;
    s.replace(s.find("rankdir=LR"), std::string("rankdir=LR").size(), "rankdir=TB");
    s += "  x [shape=plaintext, label=\"x\"]; b [shape=plaintext, label=\"b\"];\n"
         "  t [shape=plaintext, label=\"t\"]; L [shape=plaintext, label=\"L\"];\n"
         "  w [shape=plaintext, label=\"w\"];\n"
         "  fork [shape=circle, width=0.35, fixedsize=true, label=\"+\", color=" +
         quoted(sum_colour) + ", fontcolor=" + quoted(sum_colour) +
         ", penwidth=2];\n"
         "  linear [shape=box, style=rounded, label=\"linear\\ny = w x + b\"];\n"
         "  multiply [shape=box, style=rounded, label=\"multiply\\nz = w y\"];\n"
         "  loss [shape=box, style=rounded, label=\"loss\\nL = (z - t)²\"];\n";
    // w -> fork: one forward value, and the sum of the two gradients on the way back
    s += forward_edge("w", "fork", "w = " + num(w));
    s += "  w -> fork [dir=back, color=" + quoted(sum_colour) + ", fontcolor=" + quoted(sum_colour) +
         ", style=bold, label=" +
         quoted("  ∂L/∂w = " + num(g.dw_linear) + " + (" + num(g.dw_multiply) + ") = " + num(g.dw)) + "];\n";
    s += forward_edge("x", "linear", "x = " + num(x)) + forward_edge("fork", "linear", "w = " + num(w)) +
         forward_edge("b", "linear", "b = " + num(b)) + forward_edge("linear", "multiply", "y = " + num(y)) +
         forward_edge("fork", "multiply", "w = " + num(w)) + forward_edge("multiply", "loss", "z = " + num(z)) +
         forward_edge("t", "loss", "t = " + num(t)) + forward_edge("loss", "L", "L = " + num(L));
    s += backward_edge("x", "linear", "  ∂L/∂x = " + num(g.dx)) +
         backward_edge("fork", "linear", "  dy · x = " + num(g.dw_linear)) +
         backward_edge("b", "linear", "  ∂L/∂b = " + num(g.db)) +
         backward_edge("linear", "multiply", "  dy = dz · w = " + num(dy)) +
         backward_edge("fork", "multiply", "  dz · y = " + num(g.dw_multiply)) +
         backward_edge("multiply", "loss", "  dz = " + num(dz)) + backward_edge("loss", "L", "  ∂L/∂L = 1");
    s += "}\n";
    return {"01_backprop_1d", "fork_graph", Kind::graph, 0, 0, 0, s};
}

}  // namespace

std::vector<Figure> chapter01() {
    return {linear_graph(), fork_graph()};
}

}  // namespace course::figures
