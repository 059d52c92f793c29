//! Requests refused with a page instead of a redirect: the person sees what
//! happened in their language, with the request id to quote.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    BadRequest,
    /// `client_id` unknown: no redirect, the redirect URI cannot be trusted.
    UnknownClient,
    /// `redirect_uri` not registered exactly: no redirect (RFC 6749 §4.1.2.1).
    BadRedirectUri,
    /// Forged `id_token_hint` or unregistered `post_logout_redirect_uri`.
    BadLogoutRequest,
    /// The pending sign-in is gone (expired or already used).
    LoginExpired,
    /// The form's CSRF token did not match.
    FormExpired,
    /// The app is unknown or not for this person.
    AppNotAllowed,
    /// A CAS `service` no registered service matches: no redirect to it.
    UnknownService,
    /// A SAML message from an unregistered SP, to an unregistered ACS URL,
    /// unsigned where a signature is due, replayed or malformed: no response to it.
    BadSamlRequest,
}
