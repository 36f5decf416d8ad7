"""The estimators: ML, MLM/MLR, FIML, WLSMV and multi-group, each an objective for the engine."""
