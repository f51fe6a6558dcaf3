"""``manage.py demo``: migrate, seed the demo tenant (with the small scale of ``seed_demo`` on the
first run), fit its forecasts, evaluate it and carry out the responses, then run web server, worker and beat together
until Ctrl-C or a SIGTERM stops all of them."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import embedded_services
from core.demo.loading import demo_dataset_present
from core.demo.seed import demo_tenant_seed
from core.demo.transfers_showcase import transfers_showcase
from core.playbooks.consumer import responses_sweep
from core.procurement.models import OPEN_RFQ_STATUSES, Rfq
from core.transfers.models import PlanStatus
from workers.app import worker_queues

STOP_SECONDS = 20  # for the worker's warm shutdown: the tasks it runs finish first
# A server listening on every address is reached on this machine through the loopback one.
LOOPBACK_OF_WILDCARD = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104 - names the wildcard, binds nothing


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@dataclass(frozen=True)
class Address:
    """Where the web server listens (``--host``, ``--port``) and how the printed URLs reach it."""

    host: str
    port: int

    @property
    def bind(self) -> str:
        """runserver's ``addrport``; an IPv6 address in brackets."""
        return f"{_bracketed(self.host)}:{self.port}"

    @property
    def url_host(self) -> str:
        return _bracketed(LOOPBACK_OF_WILDCARD.get(self.host, self.host))

    @property
    def base(self) -> str:
        return f"http://{self.url_host}:{self.port}"


class Command(BaseCommand):
    help = "Run Tripline with demo data: web server, Celery worker and beat, until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default: 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to listen on (default: 8000).")
        parser.add_argument("--no-serve", action="store_true", help="Migrate and seed, print, and exit.")

    def handle(self, *args: object, host: str, port: int, no_serve: bool, **options: object) -> None:
        host = host.strip().strip("[]")
        if not host or not 0 < port < 65536:
            raise CommandError(f"Cannot listen on host {host!r}, port {port}: give an address and a port 1-65535.")
        server = Address(host=host, port=port)
        self.stdout.write(self.style.MIGRATE_HEADING("1/5 Migrating the database"))
        call_command("migrate", interactive=False, verbosity=1)
        self.stdout.write(self.style.MIGRATE_HEADING("2/5 Seeding the demo tenant"))
        credentials = demo_tenant_seed()
        if demo_dataset_present(tenant=credentials.tenant):
            self.stdout.write(f"Demo data of '{credentials.tenant.slug}' is loaded already; keeping it.")
        else:
            # The first run fills the tenant with the small scale; its ledger is kept across runs.
            call_command(
                "seed_demo",
                "--scale",
                "small",
                "--tenant",
                credentials.tenant.slug,
                stdout=self.stdout,
                stderr=self.stderr,
            )
        self.stdout.write(self.style.MIGRATE_HEADING("3/5 Forecasting demand, then evaluating every position"))
        # The worker's daily refit would fit them within a day; the console shows them from the start.
        call_command("forecast", "--tenant", credentials.tenant.slug, stdout=self.stdout, stderr=self.stderr)
        call_command("evaluate", "--tenant", credentials.tenant.slug, stdout=self.stdout, stderr=self.stderr)
        self.stdout.write(
            self.style.MIGRATE_HEADING("4/5 Responding: RFQs to backup suppliers, playbook records, transfers")
        )
        # What the worker's sweep would do within a minute, done now so the first look shows it.
        counts = responses_sweep()
        open_rfqs = Rfq.objects.filter(tenant=credentials.tenant, status__in=OPEN_RFQ_STATUSES).count()
        self.stdout.write(
            f"{counts['rfqs']} RFQ(s) opened now ({open_rfqs} open), {counts['recommendations']} markdown / "
            f"clearance / transfer record(s) proposed; invitation mail is in {settings.EMAIL_FILE_PATH}"
        )
        distributor = next((name for kind, name, _ in credentials.partner_keys if kind == "distributor"), "")
        showcase = transfers_showcase(tenant=credentials.tenant, distributor_name=distributor)
        if showcase.transfer is not None:
            self.stdout.write(
                f"Transfer {showcase.transfer.reference} of {showcase.distributor}: requested, approved, shipped, "
                f"{showcase.transfer.status}."
            )
        plan = showcase.plan
        if plan is not None and plan.status != PlanStatus.SUCCEEDED:
            self.stdout.write(f"Transfer plan {plan.status}: {plan.error or 'see transfer-plans/ in the API'}")
        elif plan is not None:
            summary = plan.summary
            self.stdout.write(
                f"Transfer plan: {summary['moves']} move(s), {summary['units']} units, transport "
                f"{summary['transport_cost']:,.2f}, {summary['units_short']} units still short "
                f"(nearest-source would cost {summary['greedy_objective']:,.2f} all in, the plan "
                f"{summary['objective']:,.2f}); {summary['total_seconds']} s."
            )
        base = server.base
        slug = credentials.tenant.slug
        lines = [
            "",
            f"Tripline demo: tenant '{slug}' ({credentials.tenant.name})",
            f"  Console         {base}/console/{slug}/",
            f"                  user '{credentials.admin_username}' (admin), 'planner' or 'analyst'; "
            f"password '{credentials.admin_password}'",
            f"  Admin site      {base}/admin/",
            f"                  user '{credentials.admin_username}', password '{credentials.admin_password}'",
            f"  Browsable API   {base}/api/v1/tenants/{slug}/me/  (log in at {base}/api-auth/login/)",
            f"  OpenAPI         {base}/api/schema/   Swagger UI {base}/api/docs/   Redoc {base}/api/redoc/",
            f"  Alerts          {base}/api/v1/tenants/{slug}/alerts/?grade=red   "
            f"Indicators {base}/api/v1/tenants/{slug}/indicators/",
            f"  RFQs            {base}/api/v1/tenants/{slug}/rfqs/   "
            f"Playbooks {base}/api/v1/tenants/{slug}/recommendations/",
            f"  Transfers       {base}/api/v1/tenants/{slug}/transfers/   "
            f"Plans {base}/api/v1/tenants/{slug}/transfer-plans/",
            f"  Shared stock    {base}/api/v1/tenants/{slug}/shared-stock/  (with a distributor's key: its view)",
            f"  Readiness       {base}/readyz",
            f"  Metrics         {base}/metrics  (Prometheus; from this machine only)",
            "",
            "API keys (shown once; a new run issues new ones):",
            f"  {'admin (staff)':<34} {credentials.admin_key}",
            *(f"  {f'{name} ({kind})':<34} {key}" for kind, name, key in credentials.partner_keys),
            "",
            f"Try:  curl -H 'Authorization: Bearer {credentials.partner_keys[0][2]}' {base}/api/v1/tenants/{slug}/me/",
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()  # the keys must show at once, also when stdout is a pipe
        if no_serve:
            return
        self.stdout.write(self.style.MIGRATE_HEADING("5/5 Running web server, worker and beat (Ctrl-C stops all)"))
        self.stdout.flush()
        self._serve(server)

    def _serve(self, server: Address) -> None:
        env = dict(
            os.environ,
            DATABASE_URL=settings.DATABASE_URL,
            REDIS_URL=settings.REDIS_URL,
            # The name the printed URLs use must be one the web server answers to.
            ALLOWED_HOSTS=",".join(dict.fromkeys([*settings.ALLOWED_HOSTS, server.url_host])),
        )
        state = embedded_services.state_dir()
        state.mkdir(parents=True, exist_ok=True)
        if not env.get("PROMETHEUS_MULTIPROC_DIR"):
            # One metrics folder for the web server, the worker and beat, as production has per host,
            # so /metrics shows the worker's series too; emptied here, before any of them starts.
            metrics = state / "metrics"
            shutil.rmtree(metrics, ignore_errors=True)
            metrics.mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
        python = sys.executable
        celery = str(Path(python).with_name("celery"))
        commands = {
            "web": [python, "manage.py", "runserver", server.bind, "--noreload"],
            "worker": [celery, "-A", "workers", "worker", "-Q", worker_queues(), "-c", "2", "-l", "INFO"],
            "beat": [celery, "-A", "workers", "beat", "-l", "INFO", "-s", str(state / "celerybeat-schedule")],
        }
        # A stop request only sets a flag: a service manager signals the whole process group and the
        # embedded-services wrapper passes its own signal on as well (Ctrl-C after 3 s), so the same
        # request arrives more than once and late, and none may cut short the wait for the children
        # below, or the exit after it.
        stop_requests: list[int] = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda signum, frame: stop_requests.append(signum))
        children: dict[str, subprocess.Popen] = {}
        try:
            for name, command in commands.items():
                # A session of its own: a signal to our group reaches it only through us, in order.
                children[name] = subprocess.Popen(  # noqa: S603
                    command, env=env, cwd=settings.BASE_DIR, start_new_session=True
                )
            while not stop_requests:
                exited = next((name for name, child in children.items() if child.poll() is not None), None)
                if exited is not None:
                    self.stderr.write(f"{exited} exited with {children[exited].returncode}; stopping the others.")
                    break
                time.sleep(0.5)
        finally:
            self._stop(children)
            # Ignored from here on: at exit Python puts its own handlers back to the default action,
            # so a copy arriving then would kill the process by the signal; an ignored one it keeps.
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_IGN)

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        """SIGTERM to each child (the worker finishes its running tasks: a warm shutdown), then wait;
        what is still running after STOP_SECONDS is killed with its whole process group."""
        self.stdout.write("Stopping web server, worker and beat ...")
        self.stdout.flush()
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for name, child in children.items():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop within {STOP_SECONDS} s; killing it.")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self.stdout.write("Stopped.")
        self.stdout.flush()
