"""The effective scope of an account, in ONE place (issue #17 item 7, delegation).

Every app reads a district officer's districts as `user.districts` and a hiring entity's subdistricts as
`user.subdistricts` (rpms.accounts.scoping, and ~30 permission, selector and to-do helpers besides). These
two fields are `ScopeManyToManyField`s: READING them answers the account's own scope united with the scope of
every colleague who delegated to it for today —

    effective(user) = own(user) ∪ own(d) for every Delegation d→user not revoked, with
                      starts_on ≤ clock.today() ≤ ends_on, whose delegator is active and holds user's role

— so that records, permissions and the to-do list of the delegator follow the delegate during the period,
and stop the day after, with no job flipping anything. It costs no extra query: the delegation is a subquery
of the same SELECT. Delegation is not transitive (only the delegators' OWN rows count).

WRITING (`set`, `add`, `remove`, `clear`), forms (`value_from_object`), and `prefetch_related` work on the
account's own rows only; `user.districts.own()` reads them explicitly (account pages show what the account
was given, not what it holds for the day)."""
from __future__ import annotations

from django.apps import apps
from django.db import models
from django.db.models import Q
from django.db.models.fields.related_descriptors import ManyToManyDescriptor
from django.utils.functional import cached_property

from rpms.core import clock


def active_delegators(user, today=None):
    """The ids of the accounts that delegate to `user` today (a subquery: no query of its own)."""
    today = today or clock.today()
    delegation = apps.get_model("accounts", "Delegation")
    return delegation.objects.filter(
        delegate_id=user.pk, revoked_at__isnull=True, starts_on__lte=today, ends_on__gte=today,
        delegator__is_active=True, delegator__role=getattr(user, "role", ""),
    ).values("delegator_id")


class _ScopeDescriptor(ManyToManyDescriptor):
    @cached_property
    def related_manager_cls(self):
        base = super().related_manager_cls

        class ScopeManager(base):
            _own_only = False

            def own(self):
                """The account's own rows (what it was given), never a delegator's."""
                return base.get_queryset(self)

            def get_queryset(self):
                if self._own_only or self.get_prefetch_cache() is not None:
                    return base.get_queryset(self)
                rows = self.through._default_manager.filter(
                    Q(**{self.source_field.attname: self.instance.pk})
                    | Q(**{f"{self.source_field.attname}__in": active_delegators(self.instance)})
                ).values(self.target_field.attname)
                queryset = super(base, self).get_queryset()  # the related model's own manager
                queryset._add_hints(instance=self.instance)
                if self._db:
                    queryset = queryset.using(self._db)
                return queryset.filter(pk__in=rows)

            def set(self, objs, *, clear=False, through_defaults=None):
                self._own_only = True  # `set` compares with the rows it may change: the account's own
                try:
                    return super().set(objs, clear=clear, through_defaults=through_defaults)
                finally:
                    self._own_only = False

            set.alters_data = True

        return ScopeManager


class ScopeManyToManyField(models.ManyToManyField):
    """A ManyToManyField read as the effective scope (see the module). Migrations see a ManyToManyField."""

    def contribute_to_class(self, cls, name, **kwargs):
        super().contribute_to_class(cls, name, **kwargs)
        setattr(cls, self.name, _ScopeDescriptor(self.remote_field, reverse=False))

    def value_from_object(self, obj):
        # Forms (the Django admin included) edit the account's own scope: a delegated district must never be
        # saved into it.
        return [] if obj.pk is None else list(getattr(obj, self.attname).own())

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.ManyToManyField", args, kwargs
