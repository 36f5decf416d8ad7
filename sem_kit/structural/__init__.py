"""The structural stage: hypothesised paths, R², effects and mediation."""
