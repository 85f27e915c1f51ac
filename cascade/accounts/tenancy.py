"""The one mechanism that scopes every page and query to the user's organisations.

Each tenant-owned model declares `TENANT_PATHS`: the lookups that lead from a row to the
organisations allowed to see it (e.g. an invoice is seen by its seller and by its buyer).
Views fetch through `scoped()` / `get_scoped_or_404()`; an object of another organisation is
then simply not found (404), so nobody learns that it exists.
"""

from collections.abc import Iterable

from django.db.models import Model, Q, QuerySet
from django.http import Http404

from .models import Membership, Organisation


def organisation_ids(user) -> list[int]:
    if not getattr(user, "is_authenticated", False):
        return []
    cache = getattr(user, "_cascade_org_ids", None)
    if cache is None:
        cache = list(Membership.objects.filter(user=user).values_list("organisation_id", flat=True))
        user._cascade_org_ids = cache
    return cache


def role_in(user, organisation_id: int) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    m = Membership.objects.filter(user=user, organisation_id=organisation_id).only("role").first()
    return m.role if m else None


def scoped(model_or_qs: type[Model] | QuerySet, user, paths: Iterable[str] | None = None) -> QuerySet:
    """The rows of a model that this user's organisations may see."""
    qs = model_or_qs if isinstance(model_or_qs, QuerySet) else model_or_qs.objects.all()
    ids = organisation_ids(user)
    if not ids:
        return qs.none()
    paths = tuple(paths or qs.model.TENANT_PATHS)
    condition = Q()
    for path in paths:
        condition |= Q(**{"pk__in" if path == "pk" else f"{path}__in": ids})
    # Several paths can match the same row through joins: keep each row once.
    return qs.filter(condition).distinct() if len(paths) > 1 else qs.filter(condition)


def get_scoped_or_404(model_or_qs, user, paths: Iterable[str] | None = None, **lookup):
    qs = scoped(model_or_qs, user, paths)
    try:
        return qs.get(**lookup)
    except (qs.model.DoesNotExist, ValueError):
        raise Http404 from None


def managed_organisation_or_404(user, organisation_id: int, roles: Iterable[str]) -> Organisation:
    """The organisation when the user holds one of `roles` in it; 404 otherwise."""
    if role_in(user, organisation_id) not in set(roles):
        raise Http404
    return Organisation.objects.get(pk=organisation_id)
