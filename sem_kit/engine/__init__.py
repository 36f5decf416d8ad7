"""The estimation engine: model compilation, RAM moments, the optimiser, fit measures, refits."""
