"""frontier.png: every setting's label readable (inside the axes, over no other label or point)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from step5_rlhf.rlhf.frontier_plot import _place_labels  # noqa: E402


def test_labels_stay_inside_and_apart():
    fig, axis = plt.subplots(figsize=(6, 5))
    # a cluster of four settings, and one at the right edge whose default place would leave the axes
    points = [("β=0.05", 1.00, 0.30), ("β=0.2", 1.02, 0.301), ("β=1.0", 1.01, 0.299), ("β_KL=0.4", 0.99, 0.30),
              ("N=16", 2.00, 0.40)]
    axis.scatter([x for _, x, _ in points], [y for _, _, y in points])
    axis.set_xlim(0, 2.0)
    axis.set_ylim(0.2, 0.45)
    fig.canvas.draw()
    _place_labels(fig, axis, [(text, x, y, "black") for text, x, y in points])
    renderer = fig.canvas.get_renderer()
    boxes = [note.get_window_extent(renderer) for note in axis.texts]
    frame = axis.get_window_extent(renderer)
    assert sorted(note.get_text() for note in axis.texts) == sorted(text for text, _, _ in points)  # none dropped
    edge = boxes[[note.get_text() for note in axis.texts].index("N=16")]
    assert frame.x0 <= edge.x0 and edge.x1 <= frame.x1  # moved left of its point, not cut by the frame
    overlapping = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.overlaps(b)]
    assert not overlapping
    plt.close(fig)
