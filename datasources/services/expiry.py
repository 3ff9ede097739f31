"""Server certificates watched: the last successful test's certificate is kept on its source, and one
``data_source.certificate_expiring`` event per certificate per source is published once it comes
within ``TLS_CERTIFICATE_WARNING_DAYS`` of expiry (a renewed certificate is a new one)."""
from django.conf import settings

from datasources.security.tls import days_until
from datasources.services.events import event_publish

CERTIFICATE_EXPIRING = "data_source.certificate_expiring"


def certificate_fields(source, result, certificate, announced) -> dict:
    """The source's certificate fields after ``result``; publishes the warning when it is due.

    Called inside the recording transaction, so a rolled-back record announces nothing.
    """
    if not result.succeeded:
        return {}  # a failed test saw no certificate worth keeping; the last good one stays
    fields = {"tls_server_certificate": certificate}
    if certificate and expiring(certificate) and certificate["sha256"] != announced:
        event_publish(organization_id=source.organization_id, type=CERTIFICATE_EXPIRING, data={
            "data_source_id": source.pk, "data_source_name": source.name, **certificate,
        })
        fields["tls_expiry_announced"] = certificate["sha256"]
    return fields


def expiring(certificate) -> bool:
    return days_until(certificate["not_after"]) <= settings.TLS_CERTIFICATE_WARNING_DAYS


def current_certificate(source) -> dict | None:
    """The stored certificate with ``days_left`` as of now and whether it is ``expiring``."""
    certificate = source.tls_server_certificate
    if not certificate:
        return None
    return {**certificate, "days_left": days_until(certificate["not_after"]), "expiring": expiring(certificate)}
