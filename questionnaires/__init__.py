"""Built-in questionnaires.

Installed as the package sem_kit.builtin_questionnaires (see pyproject.toml).
"""
