"""Recording of state changes; every action function calls `record`."""

from django.db.models import Model

from .models import AuditEvent, Organisation


def record(action: str, *, organisation: Organisation | None, actor=None, obj: Model | None = None,
           **data) -> AuditEvent:
    return AuditEvent.objects.create(
        organisation=organisation,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data,
    )
