"""Running untrusted submissions: a child process computes outputs, the grader compares them."""
