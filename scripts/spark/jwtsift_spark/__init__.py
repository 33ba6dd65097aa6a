"""jwtsift on Spark: jwtsift_spark/job.py is the spark-submit script (self-contained: it imports nothing from this
package, so `spark-submit .../job.py` works on a cluster with nothing installed on the executors but Python);
check.py compares a merged database with a single scan of the same files."""
import os


def job_path():
    """The path of job.py, for `spark-submit "$(jwtsift-spark-job-path)" ...` after `pip install scripts/spark`."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "job.py")


def print_job_path():
    print(job_path())

