"""igr.pipeline: what the Snakemake rules need beyond paths, in plain Python.

No TensorFlow and no Snakemake imports, so each check is a fast unit test:

- :mod:`igr.pipeline.config`: strict validation of a config (duplicate YAML keys, integers
  that are floats, non-finite numbers, schema bounds) and the checks that span keys, each
  message naming its key;
- :mod:`igr.pipeline.data`: the data directory of a run (passed to jobs through
  ``IGR_DATA_DIR``, never through params, so moving the data reruns nothing) and the
  registered checksums that identify a dataset's content (the params of ``fetch_data``);
- :mod:`igr.pipeline.bytecode`: igr's bytecode written once per run (``onstart``), so
  that jobs do not each compile the modules they import.
"""
