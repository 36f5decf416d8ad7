"""Built-in questionnaires: installed as the package sem_kit.builtin_questionnaires (see pyproject.toml)."""
