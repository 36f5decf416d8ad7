"""Bundled sample data: installed as the package sem_kit.sample_data (see pyproject.toml)."""
