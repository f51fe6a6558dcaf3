"""Signing in and out, and choosing a tenant: the pages before a tenant's own."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy

from tenants import selectors as tenant_selectors


class LoginView(auth_views.LoginView):
    """The console's sign-in (django-axes counts its wrong passwords like the admin's)."""

    template_name = "console/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return str(reverse_lazy("console:home"))


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("console:login")


@login_required(login_url="console:login")
def home(request: HttpRequest) -> HttpResponse:
    """A member of one tenant goes straight to its overview; a member of several chooses."""
    tenants = tenant_selectors.tenants_visible(user=request.user, api_key=None)
    if len(tenants) == 1:
        return redirect("console:overview", tenant_slug=tenants[0]["slug"])
    return render(request, "console/tenants.html", {"tenants": tenants})
