"""Who the client is when proxies stand in front: only proxies we know may say so.

`X-Forwarded-For` is a list anyone can start. It is read only when the direct peer is one of the
TRUSTED_PROXIES (addresses or CIDR ranges: the web frontend, a load balancer), and then from the
right: each trusted hop is skipped, and the first address that is not a trusted proxy is the
client. Whatever a caller wrote further left is never reached. `X-Forwarded-Proto` is taken from
a trusted peer only, so a request counts as HTTPS (Secure cookies, HSTS) only when our proxy says so.
"""

import ipaddress


def parse_trusted_proxies(setting):
    """'127.0.0.1, 10.0.0.0/8' -> networks; '' -> none. A bare number (the old hop count) is refused."""
    networks = []
    for entry in (part.strip() for part in setting.split(",")):
        if not entry:
            continue
        if "." not in entry and ":" not in entry:
            raise RuntimeError(f"TRUSTED_PROXIES lists the proxies' addresses or CIDR ranges (e.g. 127.0.0.1/32, "
                               f"10.0.0.0/8), not a count: {entry!r}")
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise RuntimeError(f"TRUSTED_PROXIES: {entry!r} is not an address or CIDR range") from exc
    return tuple(networks)


def _address(text):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


class TrustedProxies:
    """WSGI middleware: REMOTE_ADDR and the URL scheme as the trusted proxies in front report them."""

    def __init__(self, app, networks):
        self.app = app
        self.networks = networks

    def _trusted(self, address):
        return address is not None and any(address in network for network in self.networks)

    def client_address(self, peer, forwarded_for):
        """The rightmost address of `peer` + X-Forwarded-For that is not a trusted proxy.

        An entry that is not an address ends the walk: the hop that wrote it is taken as the client.
        """
        client = peer
        for entry in reversed([part for part in forwarded_for.split(",") if part.strip()]):
            if not self._trusted(_address(client)):
                break
            hop = _address(entry)
            if hop is None:
                break
            client = str(hop)
        return client

    def __call__(self, environ, start_response):
        peer = environ.get("REMOTE_ADDR", "")
        if self._trusted(_address(peer)):
            environ["REMOTE_ADDR"] = self.client_address(peer, environ.get("HTTP_X_FORWARDED_FOR", ""))
            scheme = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
            if scheme in ("http", "https"):
                environ["wsgi.url_scheme"] = scheme
        return self.app(environ, start_response)
