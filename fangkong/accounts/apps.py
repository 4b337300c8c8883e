from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "fangkong.accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from fangkong.accounts import services
        from fangkong.areas.grids import WorkerDirectory, register_worker_directory

        register_worker_directory(WorkerDirectory(candidates=services.grid_worker_candidates,
                                                  name_worker=services.name_grid_worker,
                                                  move_accounts=services.move_grid_accounts))
