"""The toy preference world: what is true, what is unsafe, and how questions are asked.

Hand-written tables (reviewed facts), from which data/ is generated and against which the judge
checks answers. The judge (step5_rlhf.training.judge) is the ground truth of this world:
every later measurement (DPO, PPO, loss variants) is made with it.
"""
