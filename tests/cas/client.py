"""A CAS client app as the end-to-end tests need one, on python-cas (PyPI):
it validates tickets (CAS 1.0, 2.0, 3.0 with attributes), asks for proxy
tickets and checks a single-logout request. Prints one JSON object.

usage:
  client.py validate SERVER_URL SERVICE TICKET VERSION [PGT_URL]
  client.py proxy-validate SERVER_URL SERVICE TICKET
  client.py proxy SERVER_URL TARGET_SERVICE PGT
  client.py slo LOGOUT_REQUEST_XML TICKET

SERVER_URL is the CAS prefix with its trailing slash (http://127.0.0.1:PORT/cas/).
"""

import json
import sys

from cas import CASClient, CASClientV3, CASError


class ProxyValidator(CASClientV3):
    """CAS 3.0 proxy ticket validation (python-cas validates service tickets only)."""

    url_suffix = "p3/proxyValidate"


def main() -> None:
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "validate":
        server, service, ticket, version = args[:4]
        pgt_url = args[4] if len(args) > 4 else None
        kwargs = {"version": int(version), "service_url": service, "server_url": server}
        if pgt_url and int(version) >= 2:
            kwargs["proxy_callback"] = pgt_url
        client = CASClient(**kwargs)
        user, attributes, pgtiou = client.verify_ticket(ticket)
        print(json.dumps({"user": user, "attributes": attributes, "pgtiou": pgtiou}))
    elif cmd == "proxy-validate":
        server, service, ticket = args
        client = ProxyValidator(service_url=service, server_url=server)
        user, attributes, pgtiou = client.verify_ticket(ticket)
        print(json.dumps({"user": user, "attributes": attributes, "pgtiou": pgtiou}))
    elif cmd == "proxy":
        server, target, pgt = args
        # get_proxy_url joins with "/": the prefix without its trailing slash.
        client = CASClient(version=3, service_url=target, server_url=server.rstrip("/"))
        try:
            print(json.dumps({"ticket": client.get_proxy_ticket(pgt)}))
        except CASError as e:
            print(json.dumps({"error": str(e.args[0]) if e.args else "?"}))
    elif cmd == "slo":
        xml, ticket = args
        print(json.dumps({"valid": CASClientV3.verify_logout_request(xml, ticket)}))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
