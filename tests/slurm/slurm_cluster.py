"""A throw-away one-node SLURM cluster with accounting, for tests (run as root, no systemd).

Everything lives in one temporary folder: the configuration (``etc/slurm.conf``,
``etc/slurmdbd.conf``), a private munge key and socket, a MariaDB data directory, state,
spool, pid and log files. Ports are picked free at start, so the cluster does not clash with
a system SLURM or with another test cluster on the same machine. Start order::

    munged -> mariadbd (database and user for slurmdbd) -> slurmdbd -> slurmctld -> slurmd

:meth:`OneNodeCluster.stop` cancels the cluster's jobs and stops every daemon by its pid
file, in reverse order (SIGTERM, then SIGKILL after a grace period); it is safe to call on
a half-started cluster, and :class:`OneNodeCluster` used as a context manager always calls
it. Every command has a timeout after which it gets SIGINT (then SIGKILL).

Clients (``sbatch``, ``sacct``, Snakemake's SLURM executor) find the cluster through
``SLURM_CONF`` and an ``srun`` wrapper first on ``PATH`` (see :attr:`OneNodeCluster.bin_dir`):
use :attr:`OneNodeCluster.env`. The node has one partition (not the default one, so a job
lands there only when it asks), accounting with an account for the user, one countable GPU
(no device behind it) and one node feature, so requests for partition, account, GPU and
constraint can all be checked in ``sacct``. Only jobs submitted with ``--requeue`` can be
requeued (``JobRequeue=0``).

By hand (e.g. to debug the profile)::

    python tests/slurm/slurm_cluster.py start /tmp/igr-slurm   # prints the line to export
    python tests/slurm/slurm_cluster.py stop /tmp/igr-slurm
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

#: Debian packages of the cluster (what ``.ci/run`` installs).
DEBIAN_PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge", "slurmdbd", "mariadb-server")
#: Programs the cluster needs; the test skips (outside CI) when one is missing.
REQUIRED_PROGRAMS = (
    "munged", "mungekey", "mariadb-install-db", "mariadbd", "mariadb",
    "slurmdbd", "slurmctld", "slurmd", "sbatch", "srun", "sacct", "sacctmgr", "scontrol", "sinfo",
)
CLUSTER_NAME = "igrtest"
#: The only partition; it is not the default, so a job lands only where it asks to.
PARTITION = "igrtest"
#: Account registered in slurmdbd for the user that runs the cluster.
ACCOUNT = "igr"
#: Memory of the node offered to jobs (MB), capped by what the machine has.
NODE_MEMORY_MB = 8000
#: Countable GPUs of the node (no devices behind them) and its one node feature.
NODE_GPUS = 1
NODE_FEATURE = "igrnode"
#: Seconds a command may run before it gets SIGINT.
COMMAND_TIMEOUT_S = 60
#: Seconds a daemon gets to come up, and to exit after SIGTERM.
START_TIMEOUT_S = 90
STOP_GRACE_S = 15
#: Start order; stop runs the reverse.
DAEMONS = ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd")


class ClusterError(RuntimeError):
    """The cluster could not be started; the message says which step and shows its log."""


def missing_programs() -> list[str]:
    """Programs of :data:`REQUIRED_PROGRAMS` not on ``PATH`` (or in /usr/sbin)."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return [name for name in REQUIRED_PROGRAMS if shutil.which(name, path=search) is None]


def run(args: list[str], *, env: dict | None = None, timeout: float = COMMAND_TIMEOUT_S,
        check: bool = True, input_text: str | None = None) -> subprocess.CompletedProcess:
    """Run ``args``; past ``timeout`` seconds send SIGINT, then SIGKILL 10 s later.

    Raises :class:`ClusterError` on timeout, and on a non-zero exit when ``check``.
    """
    process = subprocess.Popen(
        args, env=env, stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        stdout, stderr = process.communicate(input_text, timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            stdout, stderr = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
        raise ClusterError(f"timed out after {timeout} s: {' '.join(args)}\n{stdout}{stderr}")
    result = subprocess.CompletedProcess(args, process.returncode, stdout, stderr)
    if check and result.returncode != 0:
        raise ClusterError(
            f"exit status {result.returncode}: {' '.join(args)}\n{stdout}{stderr}"
        )
    return result


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports that were free on 127.0.0.1 a moment ago."""
    sockets = []
    try:
        for _ in range(count):
            handle = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            handle.bind(("127.0.0.1", 0))
            sockets.append(handle)
        return [handle.getsockname()[1] for handle in sockets]
    finally:
        for handle in sockets:
            handle.close()


def port_open(port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as handle:
        handle.settimeout(1.0)
        return handle.connect_ex(("127.0.0.1", port)) == 0


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def node_line() -> tuple[str, str]:
    """(node name, ``NodeName=...`` line) of this machine from ``slurmd -C``, with the
    memory offered to jobs capped at :data:`NODE_MEMORY_MB`."""
    printed = run(["slurmd", "-C"]).stdout
    line = next(line for line in printed.splitlines() if line.startswith("NodeName="))
    name = line.split()[0].split("=", 1)[1]
    real_memory = int(re.search(r"RealMemory=(\d+)", line).group(1))
    offered = max(1000, min(NODE_MEMORY_MB, real_memory - 1024))
    line = re.sub(r"RealMemory=\d+", f"RealMemory={offered}", line)
    return name, (f"{line} NodeAddr=127.0.0.1 Gres=gpu:{NODE_GPUS}"
                  f" Feature={NODE_FEATURE} State=UNKNOWN")


class OneNodeCluster:
    """A one-node SLURM cluster with slurmdbd accounting, in the folder ``root``."""

    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.etc = self.root / "etc"
        self.run_dir = self.root / "run"
        self.log_dir = self.root / "log"
        self.munge_dir = self.root / "munge"
        self.mariadb_dir = self.root / "mariadb"
        self.state_dir = self.root / "state"
        self.spool_dir = self.root / "spool"
        self.slurm_conf = self.etc / "slurm.conf"
        self.munge_socket = self.munge_dir / "munge.socket"
        self.mariadb_socket = self.run_dir / "mariadb.sock"
        self.partition = PARTITION
        self.account = ACCOUNT
        self.cluster_name = CLUSTER_NAME
        self.node_name = ""
        self._mariadb_process: subprocess.Popen | None = None
        #: Seconds :meth:`start` took.
        self.start_s = 0.0

    # ----------------------------------------------------------------------- environment

    @property
    def env(self) -> dict[str, str]:
        """The current environment plus ``SLURM_CONF`` (clients find the cluster with it),
        with :attr:`bin_dir` first on ``PATH``."""
        env = dict(os.environ)
        env["SLURM_CONF"] = str(self.slurm_conf)
        env["PATH"] = os.pathsep.join([str(self.bin_dir), env.get("PATH", "")])
        return env

    @property
    def bin_dir(self) -> Path:
        """Folder of an ``srun`` that knows this cluster's ``slurm.conf``.

        Inside a job, Snakemake's jobstep executor runs the rule with ``srun`` after removing
        every ``SLURM_*`` variable except the job's identity from its environment, so
        ``SLURM_CONF`` is gone and a real ``srun`` would look for ``/etc/slurm/slurm.conf``
        (where a real cluster keeps it). This wrapper sets ``SLURM_CONF`` again and runs
        the real ``srun``; jobs see it because sbatch exports the submitter's ``PATH``.
        """
        return self.root / "bin"

    def pid_file(self, daemon: str) -> Path:
        return self.run_dir / f"{daemon}.pid"

    def log_file(self, daemon: str) -> Path:
        return self.log_dir / f"{daemon}.log"

    def log_tail(self, daemon: str, lines: int = 30) -> str:
        path = self.log_file(daemon)
        if not path.exists():
            return f"(no {path})"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # ----------------------------------------------------------------------- start

    def start(self) -> OneNodeCluster:
        """Write the configuration, start the five daemons, register cluster, account and
        user, and wait until the node is idle. On failure the daemons started so far are
        stopped and a :class:`ClusterError` naming the step is raised."""
        started = time.perf_counter()
        try:
            self._write_configuration()
            self._start_munged()
            self._start_mariadbd()
            self._start_slurmdbd()
            self._register_accounting()
            self._start_slurmctld()
            self._start_slurmd()
        except BaseException:
            self.stop()
            raise
        self.start_s = time.perf_counter() - started
        return self

    def __enter__(self) -> OneNodeCluster:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _write_configuration(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o755)
        for folder in (self.etc, self.run_dir, self.log_dir, self.state_dir, self.spool_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.munge_dir.mkdir(mode=0o711, exist_ok=True)
        (
            self.slurmctld_port, self.slurmd_port, self.slurmdbd_port, self.mariadb_port,
        ) = free_ports(4)
        self.node_name, node = node_line()
        self.db_password = secrets.token_hex(12)
        auth_info = f"socket={self.munge_socket}"
        self.slurm_conf.write_text(
            "\n".join([
                f"ClusterName={CLUSTER_NAME}",
                f"SlurmctldHost={self.node_name}(127.0.0.1)",
                f"SlurmctldPort={self.slurmctld_port}",
                f"SlurmdPort={self.slurmd_port}",
                "SlurmUser=root",
                "SlurmdUser=root",
                "AuthType=auth/munge",
                "CredType=cred/munge",
                f"AuthInfo={auth_info}",
                f"StateSaveLocation={self.state_dir}",
                f"SlurmdSpoolDir={self.spool_dir}",
                f"SlurmctldPidFile={self.pid_file('slurmctld')}",
                f"SlurmdPidFile={self.pid_file('slurmd')}",
                f"SlurmctldLogFile={self.log_file('slurmctld')}",
                f"SlurmdLogFile={self.log_file('slurmd')}",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "MpiDefault=none",
                "SwitchType=switch/none",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_Core_Memory",
                "SchedulerType=sched/backfill",
                "AccountingStorageType=accounting_storage/slurmdbd",
                "AccountingStorageHost=127.0.0.1",
                f"AccountingStoragePort={self.slurmdbd_port}",
                # With slurmdbd, this names the munge socket of the connection to it.
                f"AccountingStoragePass={self.munge_socket}",
                "JobAcctGatherType=jobacct_gather/none",
                # sacct shows the job comment (the executor writes rule and wildcards there)
                # and the GPUs a job got.
                "AccountingStoreFlags=job_comment",
                "AccountingStorageTRES=gres/gpu",
                # A GPU that is only a countable resource (no device file): jobs can ask
                # for --gpus=1 as on a GPU cluster; nothing uses it.
                "GresTypes=gpu",
                "JobCompType=jobcomp/none",
                # Jobs are requeued only when they ask for it (sbatch --requeue).
                "JobRequeue=0",
                "ReturnToService=2",
                "InactiveLimit=0",
                "MinJobAge=3600",  # scontrol keeps finished jobs (Requeue=...) for an hour
                "KillWait=30",
                node,
                f"PartitionName={PARTITION} Nodes={self.node_name} Default=NO MaxTime=INFINITE"
                + " State=UP",
                "",
            ])
        )
        dbd_conf = self.etc / "slurmdbd.conf"
        dbd_conf.write_text(
            "\n".join([
                "AuthType=auth/munge",
                f"AuthInfo={auth_info}",
                f"DbdHost={self.node_name}",
                "DbdAddr=127.0.0.1",
                f"DbdPort={self.slurmdbd_port}",
                "SlurmUser=root",
                f"PidFile={self.pid_file('slurmdbd')}",
                f"LogFile={self.log_file('slurmdbd')}",
                "StorageType=accounting_storage/mysql",
                "StorageHost=127.0.0.1",
                f"StoragePort={self.mariadb_port}",
                "StorageUser=slurm",
                f"StoragePass={self.db_password}",
                "StorageLoc=slurm_acct_db",
                "",
            ])
        )
        os.chmod(dbd_conf, 0o600)
        self.bin_dir.mkdir(exist_ok=True)
        srun = self.bin_dir / "srun"
        srun.write_text(
            "#!/bin/sh\n"
            f"SLURM_CONF='{self.slurm_conf}' exec '{shutil.which('srun')}' \"$@\"\n"
        )
        os.chmod(srun, 0o755)
        (self.etc / "gres.conf").write_text(
            f"AutoDetect=off\nNodeName={self.node_name} Name=gpu Count={NODE_GPUS}"
            " File=/dev/null\n"  # slurmd drops a GPU without a device file
        )

    def _wait_for(self, daemon: str, ready, what: str) -> None:
        """Poll ``ready()`` until true; fail with the daemon's log after the timeout."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.25)
        raise ClusterError(f"{daemon}: {what} not reached in {START_TIMEOUT_S} s\n"
                           f"{self.log_tail(daemon)}")

    def _start_munged(self) -> None:
        key = self.munge_dir / "munge.key"
        run(["mungekey", "--create", f"--keyfile={key}"])
        run([
            "munged", "--force", f"--socket={self.munge_socket}", f"--key-file={key}",
            f"--log-file={self.log_file('munged')}", f"--pid-file={self.pid_file('munged')}",
            f"--seed-file={self.munge_dir / 'munged.seed'}",
        ])
        self._wait_for("munged", lambda: self.munge_socket.exists(), "socket")

    def _mariadb(self, sql: str) -> None:
        run(["mariadb", "--no-defaults", f"--socket={self.mariadb_socket}", "-u", "root"],
            input_text=sql)

    def _start_mariadbd(self) -> None:
        data = self.mariadb_dir
        run([
            "mariadb-install-db", "--no-defaults", f"--datadir={data}", "--user=root",
            "--auth-root-authentication-method=socket", "--skip-test-db",
        ], timeout=120)
        log = self.log_file("mariadbd").open("ab")
        self._mariadb_process = subprocess.Popen(
            [
                "mariadbd", "--no-defaults", f"--datadir={data}", "--user=root",
                f"--socket={self.mariadb_socket}", f"--port={self.mariadb_port}",
                "--bind-address=127.0.0.1", f"--pid-file={self.pid_file('mariadbd')}",
                "--skip-name-resolve", "--innodb-buffer-pool-size=64M",
                "--innodb-flush-log-at-trx-commit=0", "--skip-innodb-doublewrite",
            ],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True,
        )
        log.close()
        self._wait_for("mariadbd", lambda: self.pid_file("mariadbd").exists()
                       and port_open(self.mariadb_port), "TCP port")
        self._mariadb(
            "CREATE DATABASE slurm_acct_db;\n"
            f"CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '{self.db_password}';\n"
            "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';\n"
        )

    def _start_slurmdbd(self) -> None:
        run(["slurmdbd"], env=self.env)
        self._wait_for("slurmdbd", lambda: port_open(self.slurmdbd_port), "TCP port")

    def _register_accounting(self) -> None:
        """Cluster, account and user in slurmdbd (sacctmgr -i: no confirmation prompt)."""
        user = run(["id", "-un"]).stdout.strip()
        for args in (
            ["add", "cluster", CLUSTER_NAME],
            ["add", "account", ACCOUNT, f"cluster={CLUSTER_NAME}", "description=igr tests",
             "organization=igr"],
            ["add", "user", user, f"account={ACCOUNT}", f"cluster={CLUSTER_NAME}"],
        ):
            run(["sacctmgr", "-i", *args], env=self.env)

    def _start_slurmctld(self) -> None:
        run(["slurmctld", "-i"], env=self.env)
        self._wait_for("slurmctld", lambda: run(["scontrol", "ping"], env=self.env,
                                                check=False).returncode == 0, "scontrol ping")

    def _start_slurmd(self) -> None:
        run(["slurmd"], env=self.env)

        def node_idle() -> bool:
            state = run(["sinfo", "-h", "-N", "-n", self.node_name, "-o", "%T"],
                        env=self.env, check=False).stdout.strip()
            return state == "idle"

        self._wait_for("slurmd", node_idle, "node idle in sinfo")

    # ----------------------------------------------------------------------- stop

    def stop(self) -> list[str]:
        """Cancel the cluster's jobs, then stop each daemon by its pid file, in reverse
        start order. Never raises; returns one line per problem (e.g. a SIGKILL needed)."""
        problems = []
        if self.slurm_conf.exists() and self.pid_file("slurmctld").exists():
            try:
                run(["scancel", f"--partition={PARTITION}"], env=self.env,
                    timeout=20, check=False)
                deadline = time.monotonic() + STOP_GRACE_S
                while time.monotonic() < deadline and run(
                    ["squeue", "-h", "-o", "%i"], env=self.env, timeout=20, check=False
                ).stdout.strip():
                    time.sleep(0.5)
            except (ClusterError, OSError) as error:
                problems.append(f"cancelling jobs: {error}")
        for daemon in reversed(DAEMONS):
            problem = self._stop_daemon(daemon)
            if problem:
                problems.append(problem)
        if self._mariadb_process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._mariadb_process.wait(timeout=5)
        return problems

    def _stop_daemon(self, daemon: str) -> str | None:
        path = self.pid_file(daemon)
        try:
            pid = int(path.read_text().strip())
        except (OSError, ValueError):
            return None  # never started (or already stopped and cleaned up)
        if not pid_alive(pid):
            return None
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline:
            if daemon == "mariadbd" and self._mariadb_process is not None:
                self._mariadb_process.poll()  # reap our own child
            if not pid_alive(pid):
                return None
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        return f"{daemon} (pid {pid}) ignored SIGTERM for {STOP_GRACE_S} s: killed"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("root", type=Path, help="folder of the cluster (created by start)")
    args = parser.parse_args(argv)
    cluster = OneNodeCluster(args.root)
    if args.action == "start":
        cluster.start()
        print(f"export SLURM_CONF={cluster.slurm_conf} PATH={cluster.bin_dir}:$PATH"
              f"  # partition {cluster.partition}, account {cluster.account}")
        return 0
    for problem in cluster.stop():
        print(problem, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
