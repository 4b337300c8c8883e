from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PolicyConfig(AppConfig):
    name = "fangkong.policy"
    verbose_name = _("Policy")

    def ready(self) -> None:
        # The audit log shows a policy change's keys (routing, bed_kinds…) and values by their labels.
        from fangkong.audit.labels import register_words
        from fangkong.jobs.registry import register
        from fangkong.policy import jobs
        from fangkong.policy.forms import SCALAR_FIELDS
        from fangkong.policy.labels import BED_KIND_LABELS, CATEGORY_LABELS, FACILITY_KIND_LABELS

        register_words("policy.policyversion", lambda: {
            **{name: info.label for name, info in SCALAR_FIELDS.items()},
            **CATEGORY_LABELS, **FACILITY_KIND_LABELS, **BED_KIND_LABELS})
        for kind in jobs.KINDS:  # the day partitions ahead and the retention purge, daily
            register(kind)
