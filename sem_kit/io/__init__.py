"""Input and output: reading and screening responses, simulating them, atomic writes."""
