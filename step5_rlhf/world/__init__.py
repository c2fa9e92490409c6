"""The toy preference world: what is true, what is unsafe, how questions are asked, and what the model reads.

Hand-written tables (reviewed facts and requests, `topics`, `requests`), the wordings (`phrasing`) and the
pretraining corpus built from them (`corpus`). data/ is generated from these; the judge
(step5_rlhf.training.judge) is the ground truth of this world: every later measurement (DPO, PPO, loss
variants) is made with it.
"""
