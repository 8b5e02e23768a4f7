"""What every test run needs, whether it is started by `make test` or by plain `pytest`."""
import os

# One OpenMP thread, without spinning: these machines have 2 cores, and several tests run a build or a
# browser beside the math. Set before anything imports torch.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
