"""The running job's identity and parameters, read from the environment the Alidade worker sets."""

import json
import os
from typing import Dict, Optional


def job_id() -> Optional[str]:
    """The job's id (a UUID string), or None outside an Alidade job."""
    return os.environ.get("DIOPTRA_JOB_ID") or None


def run_id() -> Optional[str]:
    """The run id the worker assigned to this job (32 hex characters), reported as the job's mlflowRunId."""
    return os.environ.get("MLFLOW_RUN_ID") or None


def experiment_id() -> Optional[int]:
    """The id of the job's experiment."""
    value = os.environ.get("MLFLOW_EXPERIMENT_ID")
    return int(value) if value and value.isdigit() else None


def parameters() -> Dict[str, str]:
    """The entry point's resolved parameters (given values plus defaults), all as strings."""
    raw = os.environ.get("DIOPTRA_JOB_PARAMETERS")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def parameter(name: str, default: Optional[str] = None) -> Optional[str]:
    """One resolved parameter, or `default` when the entry point has none of that name."""
    return parameters().get(name, default)


def describe() -> Dict[str, object]:
    """Everything above in one dict (handy to log at the start of a job)."""
    return {
        "job_id": job_id(),
        "run_id": run_id(),
        "experiment_id": experiment_id(),
        "parameters": parameters(),
    }
