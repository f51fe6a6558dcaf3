"""Signing in and out, and choosing a tenant: the pages before a tenant's own."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy

from tenants import selectors as tenant_selectors


class SignInForm(AuthenticationForm):
    """Django's sign-in form, refusing a user name longer than any user's before it is checked:
    Django only sets the length on the input, so a longer one reached django-axes, whose record of
    the failed attempt (a 255-character column) then failed in PostgreSQL and answered 500."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class LoginView(auth_views.LoginView):
    """The console's sign-in (django-axes counts its wrong passwords like the admin's)."""

    template_name = "console/login.html"
    authentication_form = SignInForm
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
