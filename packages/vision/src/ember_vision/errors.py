"""The errors the command line turns into one line on stderr.

Exit status 2 means the user asked for something that cannot work (the usual meaning of 2
for a command-line tool, as argparse uses it); status 1 means the request was fine but the
run failed: training diverged, a model gives unusable outputs, a file could not be written.
"""


class UsageError(Exception):
    """Bad input from the user (missing folder, one class, wrong weights file...): status 2."""


class RunFailure(RuntimeError):
    """A well-formed request whose run failed: status 1."""


class TrainingDiverged(RunFailure):
    """The loss (or the weights) stopped being finite; the outputs were still written.

    ``report`` is the ``"diverged"`` entry of metrics.json and ``metrics`` the whole of it.
    """

    def __init__(self, message, report=None, metrics=None):
        super().__init__(message)
        self.report = report
        self.metrics = metrics


class NonFiniteOutput(RunFailure):
    """A model's outputs hold NaN or infinity: its weights are unusable."""
