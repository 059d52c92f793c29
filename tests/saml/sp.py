"""A SAML 2.0 service provider as the end-to-end tests need one, on pysaml2
(PyPI, in target/saml-venv), which checks every signature with the xmlsec1
command. Prints one JSON object (or, for `metadata`, the XML).

usage: sp.py COMMAND SETTINGS_JSON [ARGS...]
  metadata                         the SP's metadata
  login                            {"id", "url"}: a Redirect-bound AuthnRequest to the IdP
  login-post                       {"id", "saml_request"}: a POST-bound AuthnRequest,
                                   signed (an enveloped XML signature), base64
  acs SAMLRESPONSE REQUEST_ID|-    the response checked: {"name_id", "format", "attributes", ...}
  logout NAME_ID FORMAT SESSION    {"id", "url"}: a signed Redirect-bound LogoutRequest
  logout-post NAME_ID FORMAT SESSION
                                   {"id", "saml_request"}: the same signed for the POST binding
  slo QUERY                        the IdP's LogoutRequest read: {"name_id", "session_index"}
  slo-response QUERY               the IdP's LogoutResponse read: {"status", "in_response_to"},
                                   or {"status_error": pysaml2's error} for a status not Success
  slo-post, slo-response-post B64  the same, by the POST binding (the form field's value)

SETTINGS_JSON: {"base": SP URL, "key": PEM, "cert": PEM, "idp_metadata": file,
"idp": IdP entity ID, "idp_sso", "idp_slo": its endpoints, "signed": sign
AuthnRequests, "enc_key", "enc_cert": PEM files of a key to receive encrypted
assertions with (published in the metadata as use="encryption"), "slo_post":
its SingleLogoutService takes the POST binding only}
"""

import base64
import json
import sys
from urllib.parse import parse_qs

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.response import StatusError
from saml2.saml import NameID
from saml2.xmldsig import SIG_RSA_SHA256, DIGEST_SHA256


def client(s):
    conf = SPConfig()
    extra = {}
    if s.get("enc_key"):
        extra["encryption_keypairs"] = [{"key_file": s["enc_key"], "cert_file": s["enc_cert"]}]
    conf.load(
        {
            **extra,
            "entityid": s["base"] + "/sp",
            "xmlsec_binary": "/usr/bin/xmlsec1",
            "key_file": s["key"],
            "cert_file": s["cert"],
            "metadata": {"local": [s["idp_metadata"]]} if s.get("idp_metadata") else {},
            "accepted_time_diff": 60,
            "service": {
                "sp": {
                    "endpoints": {
                        "assertion_consumer_service": [(s["base"] + "/acs", BINDING_HTTP_POST)],
                        "single_logout_service": [
                            (s["base"] + "/slo", BINDING_HTTP_POST if s.get("slo_post") else BINDING_HTTP_REDIRECT)
                        ],
                    },
                    "allow_unsolicited": True,
                    "authn_requests_signed": bool(s.get("signed")),
                    "logout_requests_signed": True,
                    "want_assertions_signed": True,
                    "want_response_signed": True,
                    "signing_algorithm": SIG_RSA_SHA256,
                    "digest_algorithm": DIGEST_SHA256,
                }
            },
        }
    )
    return Saml2Client(conf), conf


def redirect(info):
    return dict(info["headers"])["Location"]


def main():
    cmd, s, args = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
    c, conf = client(s)
    if cmd == "metadata":
        print(create_metadata_string(None, config=conf, valid=24).decode())
    elif cmd == "login":
        sign = bool(s.get("signed"))
        req_id, info = c.prepare_for_authenticate(
            entityid=s["idp"],
            relay_state="rs-login",
            binding=BINDING_HTTP_REDIRECT,
            sign=sign,
            sigalg=SIG_RSA_SHA256 if sign else None,
        )
        print(json.dumps({"id": req_id, "url": redirect(info)}))
    elif cmd == "login-post":
        req_id, req = c.create_authn_request(
            s["idp_sso"], sign=True, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
        )
        print(json.dumps({"id": req_id, "saml_request": base64.b64encode(str(req).encode()).decode()}))
    elif cmd == "acs":
        saml_response, req_id = args
        outstanding = {} if req_id == "-" else {req_id: s["base"] + "/acs"}
        r = c.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding=outstanding)
        statement = r.assertion.authn_statement[0]
        print(
            json.dumps(
                {
                    "name_id": r.name_id.text,
                    "format": r.name_id.format,
                    "attributes": r.get_identity(),
                    "session_index": statement.session_index,
                    "context": statement.authn_context.authn_context_class_ref.text,
                    "issuer": r.issuer(),
                    "in_response_to": r.in_response_to,
                }
            )
        )
    elif cmd == "logout":
        name_id, fmt, session_index = args
        slo = s["idp_slo"]
        req_id, req = c.create_logout_request(
            slo,
            s["idp"],
            name_id=NameID(format=fmt, text=name_id),
            session_indexes=[session_index],
            sign=False,
        )
        info = c.apply_binding(
            BINDING_HTTP_REDIRECT, str(req), slo, relay_state="rs-logout", sign=True, sigalg=SIG_RSA_SHA256
        )
        print(json.dumps({"id": req_id, "url": redirect(info)}))
    elif cmd == "logout-post":
        name_id, fmt, session_index = args
        req_id, req = c.create_logout_request(
            s["idp_slo"],
            s["idp"],
            name_id=NameID(format=fmt, text=name_id),
            session_indexes=[session_index],
            sign=True,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
        )
        print(json.dumps({"id": req_id, "saml_request": base64.b64encode(str(req).encode()).decode()}))
    elif cmd in ("slo", "slo-response", "slo-post", "slo-response-post"):
        if cmd.endswith("-post"):
            binding = BINDING_HTTP_POST
            q = {"SAMLRequest": args[0], "SAMLResponse": args[0]}
        else:
            binding = BINDING_HTTP_REDIRECT
            q = {k: v[0] for k, v in parse_qs(args[0]).items()}
        if cmd.startswith("slo-response"):
            try:
                r = c.parse_logout_request_response(q["SAMLResponse"], binding)
            except StatusError as e:
                # Read and its signature checked; a status other than Success.
                print(json.dumps({"status_error": type(e).__name__}))
                return
            m = r.response
            print(json.dumps({"status": m.status.status_code.value, "in_response_to": m.in_response_to}))
        else:
            r = c.parse_logout_request(q["SAMLRequest"], binding)
            m = r.message
            print(json.dumps({"name_id": m.name_id.text, "session_index": [i.text for i in m.session_index]}))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
