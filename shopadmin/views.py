"""Merchant UI of the tenancy core: shop picker, home, members, settings, API keys, audit log."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from shopadmin import selectors, services
from shopadmin.api.errors import ErrorCode, problem_response
from shopadmin.audit_words import ACTION_WORDS
from shopadmin.decorators import shop_view
from shopadmin.forms import ApiKeyForm, InvitationForm, RoleForm, ShopSettingsForm, add_service_errors
from shopadmin.home import render_home_sections
from shopadmin.models import ApiKey, AuditLogEntry, Door, Invitation, Job, Membership
from shopadmin.roles import Perm
from shopadmin.tasks import audit_log_export_task
from shopadmin.words import Words


def root(request):
    return redirect("shop-picker" if request.user.is_authenticated else "login")


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")


@login_required
def shop_picker(request):
    memberships = list(Membership.objects.filter(user=request.user, shop__is_active=True).select_related("shop"))
    if len(memberships) == 1:
        return redirect("shop-home", shop_slug=memberships[0].shop.slug)
    return render(request, "shopadmin/shop_picker.html", {"memberships": memberships})


@shop_view()
def shop_home(request):
    context = selectors.shop_home_summary(shop=request.shop)
    context["home_sections"] = render_home_sections(request)
    return render(request, "shopadmin/home.html", context)


@shop_view()
def members(request):
    form = InvitationForm()
    if request.method == "POST":
        if not request.membership.has_perm(Perm.SHOP_MEMBERS):
            raise PermissionDenied
        form = InvitationForm(request.POST)
        if form.is_valid():
            try:
                invitation, _url = services.invitation_create(
                    shop=request.shop,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    acting=request.membership,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
                return redirect("members", shop_slug=request.shop.slug)
    context = {
        "memberships": Membership.objects.filter(shop=request.shop).select_related("user"),
        "invitations": Invitation.objects.filter(accepted_at=None, revoked_at=None).select_related("invited_by"),
        "form": form,
        "role_form": RoleForm(),
    }
    return render(request, "shopadmin/members.html", context, status=400 if form.errors else 200)


def _shop_membership(request, membership_id) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user"), pk=membership_id, shop=request.shop)


@require_POST
@shop_view(Perm.SHOP_MEMBERS)
def member_change_role(request, membership_id):
    membership = _shop_membership(request, membership_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            membership = services.membership_change_role(
                membership=membership, role=form.cleaned_data["role"], acting=request.membership
            )
            messages.success(
                request,
                _("%(user)s is now %(role)s.") % {"user": membership.user, "role": membership.get_role_display()},
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, _("Choose a valid role."))
    return redirect("members", shop_slug=request.shop.slug)


@require_POST
@shop_view()
def member_remove(request, membership_id):
    membership = _shop_membership(request, membership_id)
    # Anyone may leave; removing someone else needs the members permission (checked in the service).
    if membership.pk != request.membership.pk and not request.membership.has_perm(Perm.SHOP_MEMBERS):
        raise PermissionDenied
    try:
        services.membership_remove(membership=membership, acting=request.membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("members", shop_slug=request.shop.slug)
    if membership.pk == request.membership.pk:
        messages.success(request, _("You left %(shop)s.") % {"shop": request.shop})
        return redirect("shop-picker")
    messages.success(request, _("%(user)s was removed.") % {"user": membership.user})
    return redirect("members", shop_slug=request.shop.slug)


@require_POST
@shop_view(Perm.SHOP_MEMBERS)
def invitation_revoke(request, invitation_id):
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    services.invitation_revoke(invitation=invitation, acting=request.membership)
    messages.success(request, _("Invitation to %(email)s revoked.") % {"email": invitation.email})
    return redirect("members", shop_slug=request.shop.slug)


def invitation_accept(request, token):
    invitation = services.invitation_find(token=token)
    if invitation is None or not invitation.is_open:
        return render(request, "shopadmin/invitation.html", {"invalid": True}, status=404)
    user_model = get_user_model()
    if not request.user.is_authenticated:
        has_account = user_model.objects.filter(email=invitation.email).exists()
        if has_account:
            return redirect(f"{reverse('login')}?next={request.path}")
        return _invitation_sign_up(request, invitation, token)
    if request.method == "POST":
        try:
            membership = services.invitation_accept(token=token, user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(request.path)
        messages.success(request, _("Welcome to %(shop)s.") % {"shop": membership.shop})
        return redirect("shop-home", shop_slug=membership.shop.slug)
    return render(request, "shopadmin/invitation.html", {"invitation": invitation})


def _invitation_sign_up(request, invitation, token):
    from django.contrib.auth import login
    from django.contrib.auth.forms import SetPasswordForm

    user_model = get_user_model()
    user = user_model(email=invitation.email)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = user_model.objects.create_user(email=invitation.email, password=form.cleaned_data["new_password1"])
            membership = services.invitation_accept(token=token, user=user)
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("shop-home", shop_slug=membership.shop.slug)
    return render(request, "shopadmin/invitation.html", {"invitation": invitation, "signup_form": form})


@shop_view(Perm.SHOP_SETTINGS)
def shop_settings(request):
    form = ShopSettingsForm(request.POST or None, instance=request.shop)
    if request.method == "POST" and form.is_valid():
        try:
            services.shop_update(shop=request.shop, **{name: form.cleaned_data[name] for name in form.changed_data})
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("shop-settings", shop_slug=request.shop.slug)
    return render(request, "shopadmin/settings.html", {"form": form}, status=400 if form.errors else 200)


NEW_API_KEY_SESSION = "shopadmin.new_api_key"


@shop_view(Perm.SHOP_API_KEYS)
def api_keys(request):
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _api_key, new_key = services.api_key_create(
                shop=request.shop,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                created_by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            # Redirect so a refresh cannot create a second key; the secret rides in the
            # session for exactly one page view and is gone after it.
            request.session[NEW_API_KEY_SESSION] = new_key
            return redirect("api-keys", shop_slug=request.shop.slug)
    context = {
        "form": form,
        "new_key": request.session.pop(NEW_API_KEY_SESSION, None) if request.method == "GET" else None,
        "keys": ApiKey.objects.select_related("created_by"),
    }
    return render(request, "shopadmin/api_keys.html", context, status=400 if form.errors else 200)


@require_POST
@shop_view(Perm.SHOP_API_KEYS)
def api_key_revoke(request, key_id):
    api_key = get_object_or_404(ApiKey, pk=key_id)
    services.api_key_revoke(api_key=api_key)
    messages.success(request, _("Key “%(name)s” revoked.") % {"name": api_key.name})
    return redirect("api-keys", shop_slug=request.shop.slug)


@shop_view(Perm.SHOP_AUDIT_LOG)
def audit_log(request):
    entries = AuditLogEntry.objects.select_related("actor_user", "actor_api_key")
    if request.GET.get("door"):
        entries = entries.filter(door=request.GET["door"])
    if request.GET.get("action"):
        entries = entries.filter(action=request.GET["action"])
    if request.GET.get("q"):
        entries = entries.filter(action__icontains=request.GET["q"])
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    # The filter offers the actions in words, in the reader's alphabetical order.
    actions = sorted(((code, str(words)) for code, words in ACTION_WORDS.items()), key=lambda a: a[1].casefold())
    filters = {k: request.GET[k] for k in ("door", "action", "q") if request.GET.get(k)}
    return render(
        request,
        "shopadmin/audit_log.html",
        {
            "page": page,
            "actions": actions,
            "doors": Door.choices,
            "filters": urlencode(filters),
            "exports": Job.objects.filter(kind="audit_log_export")[:5],
        },
    )


@require_POST
@shop_view(Perm.SHOP_AUDIT_LOG)
def audit_log_export(request):
    job = services.job_create(
        kind="audit_log_export", label=Words(gettext_noop("Audit log export")), created_by=request.user
    )
    transaction.on_commit(lambda: audit_log_export_task.delay(request.shop.pk, job.pk))
    messages.success(request, _("The export is being prepared; it appears below when ready."))
    return redirect("audit-log", shop_slug=request.shop.slug)


@shop_view()
def job_status(request, job_id):
    job = get_object_or_404(Job, pk=job_id)
    if request.GET.get("download") and job.is_finished and job.result.get("file"):
        if not request.membership.has_perm(Perm.SHOP_AUDIT_LOG) and job.kind == "audit_log_export":
            raise PermissionDenied
        name = job.result["file"]
        if not default_storage.exists(name):
            raise Http404
        return FileResponse(default_storage.open(name, "rb"), as_attachment=True, filename=name.rsplit("/", 1)[-1])
    selectors.job_merge_live_progress(job=job)
    return JsonResponse(
        {
            "id": job.pk,
            "kind": job.kind,
            "status": job.status,
            "label": job.status_label,
            "done": job.done,
            "total": job.total,
            "percent": job.percent,
            "finished": job.is_finished,
            "result": job.result,
            "error": job.error,
        }
    )


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return problem_response(ErrorCode.NOT_FOUND, 404, "No such resource.")
    return render(request, "404.html", status=404)


def server_error(request):
    if request.path.startswith("/api/"):
        return problem_response(ErrorCode.SERVER_ERROR, 500, "Something went wrong on our side.")
    return render(request, "500.html", status=500)
