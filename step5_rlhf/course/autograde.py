"""nbgrader preprocessors the course config plugs in (see builder.CONFIG_TEMPLATE).

HideHiddenTests: nbgrader 0.9.6's generate_feedback shows hidden tests by default. The autograded
notebooks keep the hidden test source and the full tracebacks of failed hidden tests (IPython
prints the failing source lines). Students read the feedback HTML, so the hidden region is cut
from the source and an error in a grade cell keeps only its `Type: message` line (our hidden
tests put their Chinese explanation in the message).

SkipUngradedTail / RestoreSkippedCells: code cells after a notebook's last nbgrader cell cannot
change any grade (cells run in order), but notebook 04 trains a model there. Autograde runs
them as comments and puts the student's source back afterwards.
"""

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Bool

SKIPPED_KEY = "step5_rlhf_skipped_source"
SKIP_NOTE = "# 自动评分时未运行：这个单元在所有评分单元之后，不影响分数。"


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


def _is_nbgrader_cell(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade") or meta.get("solution") or meta.get("locked"))


class SkipUngradedTail(NbGraderPreprocessor):
    enabled = Bool(True, help="自动评分时跳过最后一个评分单元之后的代码单元").tag(config=True)

    def preprocess(self, nb, resources):
        if not self.enabled:
            return nb, resources
        last = max((i for i, c in enumerate(nb.cells) if _is_nbgrader_cell(c)), default=len(nb.cells))
        for cell in nb.cells[last + 1:]:
            if cell.cell_type == "code" and cell.source.strip():
                cell.metadata[SKIPPED_KEY] = cell.source
                cell.source = SKIP_NOTE
        return nb, resources


class RestoreSkippedCells(NbGraderPreprocessor):
    def preprocess(self, nb, resources):
        for cell in nb.cells:
            if SKIPPED_KEY in cell.metadata:
                cell.source = SKIP_NOTE + "\n" + cell.metadata.pop(SKIPPED_KEY)
        return nb, resources
