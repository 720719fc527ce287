"""Combining backend outcomes into upper-bound estimates: results, the best bound, the `Report`."""
