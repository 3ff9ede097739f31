"""What a connector type declares about TLS, and a source's ``tls`` read against it."""


class TlsSettings:
    """``tls_modes``: the TLS modes a source of the type may ask for (empty: it does not connect over
    TLS and ``tls`` must be null); ``tls_default``: the mode an omitted ``tls`` means;
    ``tls_honoured``: whether its hooks apply ``tls`` (otherwise a test with a ``tls`` object answers
    ``UNSUPPORTED`` rather than connect some other way)."""

    tls_modes = ()
    tls_default = None
    tls_honoured = False

    @classmethod
    def tls_of(cls, tls) -> dict | None:
        """A source's ``tls``, or the type's default as one (None: the type has no TLS)."""
        if tls:
            return tls
        return {"mode": cls.tls_default, "ca_certificate": None, "client_certificate": None} if cls.tls_default else None

    @classmethod
    def tls_is_default(cls, tls) -> bool:
        """True when ``tls`` asks for nothing but what the driver does by itself (the default mode)."""
        return tls == {"mode": cls.tls_default, "ca_certificate": None, "client_certificate": None}
