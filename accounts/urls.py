from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("apps/connected/", views.connected_apps, name="connected-apps"),
    path("apps/connected/<int:application_id>/revoke/", views.connected_app_revoke, name="connected-app-revoke"),
    path("apps/", views.registered_apps, name="registered-apps"),
    path("apps/new/", views.register_app, name="register-app"),
]
