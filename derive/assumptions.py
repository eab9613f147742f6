"""The conditions a claim may rely on (`assume:`), in a module of their own so that the
command line can offer them without loading the engine."""

SUM_TO_ONE = "targets sum to 1"
ONE_HOT = "targets are one-hot"
ASSUMPTIONS = {SUM_TO_ONE, ONE_HOT}
