"""The report: payload, RFC 8785 + detached JWS signing, documents."""
