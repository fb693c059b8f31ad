"""Developer tools: the demo chain, the benchmark and the chaos run."""
