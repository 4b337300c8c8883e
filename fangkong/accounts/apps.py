from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "fangkong.accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from fangkong.accounts import grid_workers, sessions  # noqa: F401 (sessions: the log-in's receiver)
        from fangkong.areas.grids import WORKER_DIRECTORY, WorkerDirectory

        directory = WorkerDirectory(candidates=grid_workers.grid_worker_candidates,
                                    name_worker=grid_workers.name_grid_worker,
                                    move_accounts=grid_workers.move_grid_accounts)
        WORKER_DIRECTORY.provide(lambda: directory)
