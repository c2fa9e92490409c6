"""Feedback HTML that students can read offline, without the hidden tests.

* ``HideHiddenTests``: nbgrader 0.9.6's generate_feedback shows hidden tests and their full
  tracebacks. The hidden region is cut from the source and an error in a grade cell keeps only its
  ``Type: message`` line (our checks put their Chinese explanation in the message).
* ``RenderMath``: formulas in Markdown cells become MathML (latex2mathml), which browsers draw
  natively; ``OfflineFeedbackExporter`` drops the MathJax script that would load from a CDN, so
  the page needs no network and shows no raw ``$$…$$``.
"""

import re

from nbconvert.exporters import HTMLExporter
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)
_MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$", re.S)
_MATHJAX = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)


class HideHiddenTests(ClearHiddenTests):
    def preprocess_cell(self, cell, resources, cell_index):
        had_hidden = self.begin_test_delimeter in cell.source
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if had_hidden or (utils.is_grade(cell) and cell.cell_type == "code"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    line = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
                    output["traceback"] = [line]
        return cell, resources


def to_mathml(tex: str, display: bool) -> str:
    from latex2mathml.converter import convert

    try:
        return convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # a formula the converter does not know stays as written
        return f"${'$' if display else ''}{tex}{'$' if display else ''}$"


def render_math(markdown: str) -> str:
    """Markdown with every $…$ and $$…$$ outside code replaced by MathML."""
    parts = _CODE.split(markdown)
    for index in range(0, len(parts), 2):  # even parts are outside code
        parts[index] = _MATH.sub(lambda m: to_mathml(m.group(1) or m.group(2), m.group(1) is not None), parts[index])
    return "".join(parts)


class RenderMath(NbGraderPreprocessor):
    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "markdown":
            cell.source = render_math(cell.source)
        return cell, resources


class OfflineFeedbackExporter(HTMLExporter):
    """HTMLExporter whose pages load nothing from the network (math is already MathML)."""

    def from_notebook_node(self, nb, resources=None, **kw):
        output, resources = super().from_notebook_node(nb, resources, **kw)
        return _MATHJAX.sub("", output), resources
