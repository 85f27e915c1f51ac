

def memberships(request) -> dict:
    """The organisations of the signed-in user, for the navigation bar."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {}
    from .models import Membership

    return {"user_memberships": Membership.objects.filter(user=user).select_related("organisation")}
