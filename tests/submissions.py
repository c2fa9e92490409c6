"""Build test submissions: the reference solution plus code appended at the end.

A later `def` replaces an earlier one, so appending code overrides just the functions (or adds
module-level behaviour) a test is about, while everything else stays correct:

    from submissions import make_submission
    path = make_submission(tmp_path, "wrong_loss", '''
    def dpo_loss(policy_chosen_log_probs, policy_rejected_log_probs,
                 ref_chosen_log_probs, ref_rejected_log_probs, beta=0.1):
        return torch.tensor(0.0)
    ''')

`extra_source` is dedented; the file is `tmp_path / f"{name}.py"` and its path is returned.
"""

import textwrap
from pathlib import Path

from step5_rlhf import paths

SOLUTION_SOURCE = Path(paths.SOLUTION).read_text(encoding="utf-8")


def make_submission(directory, name: str, extra_source: str = "") -> Path:
    """Write the reference solution + `extra_source` to `directory/name.py`; return that path."""
    path = Path(directory) / f"{name}.py"
    path.write_text(SOLUTION_SOURCE + "\n\n" + textwrap.dedent(extra_source), encoding="utf-8")
    return path
