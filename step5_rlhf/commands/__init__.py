"""The `step5-rlhf` subcommands: thin front ends that parse arguments and print Chinese results."""
