"""The source form's ``tls`` field: the input's ``tls`` object drawn as a group of inputs (a mode
picker, the CA and the client certificate to paste or upload). The client key is not here: it is
the secret credential field ``credential_tls_client_key``, write-only like every secret.

Nothing is checked here: an upload is read (no more than it takes for the service to see that it
is too long) and fills its field as if pasted; the service parses it.
"""
from django import forms

from datasources.security.tls import MAX_PEM_BYTES, MODES

PEMS = ("ca_certificate", "client_certificate")
PART_LABELS = {"mode": "Mode", "ca_certificate": "CA certificate", "client_certificate": "Client certificate"}
MODES_HELP = (
    "disable: no TLS · prefer: TLS when the server offers it, not verified · require: TLS, not verified · "
    "verify-ca: the server's certificate must come from the CA · verify-full: and name the host."
)
UPLOAD_TYPES = ".pem,.crt,.cer,application/x-pem-file,application/x-x509-ca-cert"


class TlsWidget(forms.MultiWidget):
    """Inputs named ``tls_mode``, ``tls_ca_certificate`` (+ ``_file``), ``tls_client_certificate`` (+ ``_file``)."""
    template_name = "datasources/widgets/tls.html"
    invalid = frozenset()  # the parts the service found wrong (``errors.add_service_errors``)

    def __init__(self):
        def pem(placeholder):
            return forms.Textarea(attrs={"rows": 4, "cols": 64, "class": "rg-pem", "spellcheck": "false",
                                         "autocomplete": "off", "placeholder": placeholder})

        upload = {"class": "rg-pem-file", "accept": UPLOAD_TYPES}
        super().__init__({
            "mode": forms.Select(attrs={"class": "rg-tls-mode"}),
            "ca_certificate": pem("-----BEGIN CERTIFICATE-----  (blank: the system's trusted CAs)"),
            "ca_certificate_file": forms.FileInput(attrs=upload),
            "client_certificate": pem("-----BEGIN CERTIFICATE-----  (only when the server asks for one)"),
            "client_certificate_file": forms.FileInput(attrs=upload),
        })

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        for widget, suffix in zip(context["widget"]["subwidgets"], self.widgets_names):
            if widget["attrs"].get("id"):  # id_tls_mode rather than Django's id_tls_0: named like the input
                widget["attrs"]["id"] = context["widget"]["attrs"]["id"] + suffix
        context["modes_help"] = MODES_HELP
        context["invalid"] = {part: part in self.invalid for part in PART_LABELS}
        return context

    def id_for_label(self, id_):
        return f"{id_}_mode" if id_ else id_

    def decompress(self, value):
        value = value if isinstance(value, dict) else {}
        return [value.get("mode") or "", value.get("ca_certificate"), None, value.get("client_certificate"), None]


class TlsFormField(forms.MultiValueField):
    """Cleans to ``{"mode", "ca_certificate", "client_certificate"}``, or None when nothing was given
    (the type's default). A blank mode with certificates is left for the form to fill with the
    type's default mode (``DataSourceAdminForm.payload``)."""
    widget = TlsWidget

    def __init__(self, **options):
        options.pop("initial", None)
        options.pop("required", None)
        fields = (forms.ChoiceField(required=False), forms.CharField(required=False, strip=False),
                  forms.FileField(required=False), forms.CharField(required=False, strip=False),
                  forms.FileField(required=False))
        super().__init__(fields, require_all_fields=False, required=False, **options)
        self.set_modes(MODES, None, blank="the type's default")

    def set_modes(self, modes, default, blank=None):
        """The mode picker's choices: ``modes``, the type's ``default`` marked (the script redoes this
        when the type changes on an add page)."""
        choices = [("", blank)] if blank else []
        choices += [(mode, f"{mode} (default)" if mode == default else mode) for mode in modes]
        self.fields[0].choices = choices
        self.widget.widgets[0].choices = choices

    def compress(self, values):
        if not values:
            return None
        mode, ca, ca_file, client, client_file = values
        tls = {"mode": mode or None,
               "ca_certificate": read_upload(ca_file) if ca_file else _text(ca),
               "client_certificate": read_upload(client_file) if client_file else _text(client)}
        if tls["mode"] is None and not any(tls[key] for key in PEMS):
            return None
        return tls


def show_type_modes(field: TlsFormField, layout: dict, tls) -> dict:
    """A change page's picker: its type's modes, the stored mode (or the type's default) chosen."""
    field.set_modes(layout["tls_modes"], layout["tls_default"])
    return {**(tls if isinstance(tls, dict) else {}), "mode": (tls or {}).get("mode") or layout["tls_default"]}


def sent_tls(tls, layout: dict | None, stored):
    """The ``tls`` to send: a blank mode is the type's default, and the default without certificates
    stays null where nothing was stored (the read then shows what the API's caller would see)."""
    if not tls or not layout:
        return tls
    tls = {**tls, "mode": tls["mode"] or layout["tls_default"]}
    if not stored and tls == {"mode": layout["tls_default"], "ca_certificate": None, "client_certificate": None}:
        return None
    return tls


def read_upload(upload) -> str:
    """The uploaded file as text, as if pasted; the service says whether it is PEM and short enough.

    Read up to twice the limit: CRLF made LF at most halves it, so a longer file still reaches the
    service too long, never cut short into a valid-looking bundle."""
    upload.seek(0)
    return _text(upload.read(2 * MAX_PEM_BYTES + 1).decode("utf-8", errors="replace")) or ""


def _text(value):
    """Pasted PEM text as the API would get it: browsers send a textarea's lines ending in CRLF, and a
    CA that differs only so would count as another CA (the stored secrets asked for again)."""
    return value.replace("\r\n", "\n") if value and value.strip() else None


def part_label(key: str) -> str:
    return PART_LABELS.get(key, key)
