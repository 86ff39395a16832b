"""Alidade's builtin task plugins: what a job needs to know about itself, and a place to put its outputs.

    from dioptra_builtins.alidade import job, artifacts

    params = job.parameters()          # the entry point's resolved parameters, as strings
    artifacts.write_json("metrics.json", {"job": job.job_id(), "accuracy": 0.93})

Plain Python 3 standard library only.
"""
