"""The checks of the five TODOs, as pure logic: cases, expected outputs, comparison, verdicts, reports.

Nothing here runs a student's file; `step5_rlhf.grading` does that (in a sandboxed child process)
and `step5_rlhf.assess` ties the two together:

    from step5_rlhf.assess import check_submission
    results = check_submission("train_dpo_exercise.py")   # list of TodoResult

One module per TODO holds its cases, how its answer is compared and its hints
(todo1_dpo_loss.py … todo5_train_step.py); `registry` lists them in course order.
"""
