"""Running backends on a corpus: tasks in worker processes, shards, Dask, the result cache."""
