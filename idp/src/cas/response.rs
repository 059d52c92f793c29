//! The bodies of the validation and proxy endpoints: CAS 1.0 text (§2.4.2),
//! the XML of appendix A (`cas:serviceResponse`, written with quick-xml,
//! every value escaped) and the JSON form (`format=JSON`, §2.5.8 and
//! appendix A's JSON examples).

use quick_xml::Writer;
use quick_xml::events::BytesText;
use serde_json::{Map, Value, json};

use super::CasError;

/// The CAS namespace (appendix A).
pub const NS: &str = "http://www.yale.edu/tp/cas";

/// A validation failure's code (§2.5.3, §2.7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    InvalidRequest,
    InvalidTicketSpec,
    UnauthorizedServiceProxy,
    InvalidProxyCallback,
    InvalidTicket,
    InvalidService,
    /// `/proxy`: the target service may not be given tickets.
    UnauthorizedService,
    InternalError,
}

impl Code {
    pub const fn as_str(self) -> &'static str {
        match self {
            Code::InvalidRequest => "INVALID_REQUEST",
            Code::InvalidTicketSpec => "INVALID_TICKET_SPEC",
            Code::UnauthorizedServiceProxy => "UNAUTHORIZED_SERVICE_PROXY",
            Code::InvalidProxyCallback => "INVALID_PROXY_CALLBACK",
            Code::InvalidTicket => "INVALID_TICKET",
            Code::InvalidService => "INVALID_SERVICE",
            Code::UnauthorizedService => "UNAUTHORIZED_SERVICE",
            Code::InternalError => "INTERNAL_ERROR",
        }
    }
}

/// A refusal: its code and a sentence for the app's developer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub code: Code,
    pub description: String,
    /// The calling server alone made the request wrong (a missing `service`,
    /// a bad `format`): counted against its per-address limit of failed
    /// calls. A ticket, whatever it is, comes from the person's browser: a
    /// refusal because of it is never counted, or one person could block an
    /// app server for everyone (and 256 random bits are not guessed).
    pub counted: bool,
}

impl Failure {
    /// A refusal not counted against the caller (see [`Failure::counted`]).
    pub fn new(code: Code, description: impl Into<String>) -> Failure {
        Failure {
            code,
            description: description.into(),
            counted: false,
        }
    }

    /// A malformed request the caller alone is answerable for: counted.
    pub fn malformed(code: Code, description: impl Into<String>) -> Failure {
        Failure {
            counted: true,
            ..Failure::new(code, description)
        }
    }
}

/// A successful validation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Success {
    /// The official e-mail address.
    pub user: String,
    /// Released attributes, in order (empty outside `/p3/`).
    pub attributes: Vec<(String, String)>,
    /// The IOU of a delivered proxy-granting ticket.
    pub pgt_iou: Option<String>,
    /// The proxies a proxy ticket went through, most recent first.
    pub proxies: Vec<String>,
}

/// The answer's format (`format=XML|JSON`, §2.5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    /// `None` for a format the spec does not define.
    pub fn parse(v: Option<&str>) -> Option<Format> {
        match v {
            None => Some(Format::Xml),
            Some(f) if f.eq_ignore_ascii_case("xml") => Some(Format::Xml),
            Some(f) if f.eq_ignore_ascii_case("json") => Some(Format::Json),
            Some(_) => None,
        }
    }
}

/// Characters XML 1.0 cannot carry (controls other than tab and line
/// breaks) are dropped; the rest is escaped by quick-xml.
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

fn text(w: &mut Writer<Vec<u8>>, name: &str, value: &str) -> std::io::Result<()> {
    let value = clean(value);
    w.create_element(name)
        .write_text_content(BytesText::new(&value))?;
    Ok(())
}

fn finish(w: Writer<Vec<u8>>) -> Result<String, CasError> {
    String::from_utf8(w.into_inner())
        .map_err(|e| CasError::Xml(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// `<cas:serviceResponse>` with `inner` inside.
fn envelope(
    inner: impl FnOnce(&mut Writer<Vec<u8>>) -> std::io::Result<()>,
) -> Result<String, CasError> {
    let mut w = Writer::new(Vec::new());
    w.create_element("cas:serviceResponse")
        .with_attribute(("xmlns:cas", NS))
        .write_inner_content(inner)?;
    finish(w)
}

fn failure_xml(w: &mut Writer<Vec<u8>>, element: &str, f: &Failure) -> std::io::Result<()> {
    let description = clean(&f.description);
    w.create_element(element)
        .with_attribute(("code", f.code.as_str()))
        .write_text_content(BytesText::new(&description))?;
    Ok(())
}

/// The XML of `/serviceValidate`, `/proxyValidate` and their `/p3/` forms.
pub fn validation_xml(r: &Result<Success, Failure>) -> Result<String, CasError> {
    envelope(|w| match r {
        Err(f) => failure_xml(w, "cas:authenticationFailure", f),
        Ok(s) => {
            w.create_element("cas:authenticationSuccess")
                .write_inner_content(|w| {
                    text(w, "cas:user", &s.user)?;
                    if !s.attributes.is_empty() {
                        w.create_element("cas:attributes")
                            .write_inner_content(|w| {
                                for (name, value) in &s.attributes {
                                    text(w, &format!("cas:{name}"), value)?;
                                }
                                Ok(())
                            })?;
                    }
                    if let Some(iou) = &s.pgt_iou {
                        text(w, "cas:proxyGrantingTicket", iou)?;
                    }
                    if !s.proxies.is_empty() {
                        w.create_element("cas:proxies").write_inner_content(|w| {
                            for p in &s.proxies {
                                text(w, "cas:proxy", p)?;
                            }
                            Ok(())
                        })?;
                    }
                    Ok(())
                })?;
            Ok(())
        }
    })
}

/// The JSON of the same answers.
pub fn validation_json(r: &Result<Success, Failure>) -> Value {
    match r {
        Err(f) => json!({"serviceResponse": {"authenticationFailure": {
            "code": f.code.as_str(), "description": f.description}}}),
        Ok(s) => {
            let mut ok = Map::new();
            ok.insert("user".into(), json!(s.user));
            if !s.attributes.is_empty() {
                let mut attrs = Map::new();
                // A name given more than once (`amr`) is one list.
                for (name, value) in &s.attributes {
                    match attrs.get_mut(name) {
                        Some(Value::Array(list)) => list.push(json!(value)),
                        _ => {
                            attrs.insert(name.clone(), json!([value]));
                        }
                    }
                }
                ok.insert("attributes".into(), Value::Object(attrs));
            }
            if let Some(iou) = &s.pgt_iou {
                ok.insert("proxyGrantingTicket".into(), json!(iou));
            }
            if !s.proxies.is_empty() {
                ok.insert("proxies".into(), json!(s.proxies));
            }
            json!({"serviceResponse": {"authenticationSuccess": ok}})
        }
    }
}

/// CAS 1.0 `/validate` (§2.4.2): `yes\nUSER\n` or `no\n\n`.
pub fn v1_text(r: &Result<Success, Failure>) -> String {
    match r {
        Ok(s) => format!("yes\n{}\n", s.user.replace(['\r', '\n'], "")),
        Err(_) => "no\n\n".to_owned(),
    }
}

/// The XML of `/proxy` (§2.7.2).
pub fn proxy_xml(r: &Result<String, Failure>) -> Result<String, CasError> {
    envelope(|w| match r {
        Err(f) => failure_xml(w, "cas:proxyFailure", f),
        Ok(pt) => {
            w.create_element("cas:proxySuccess")
                .write_inner_content(|w| text(w, "cas:proxyTicket", pt))?;
            Ok(())
        }
    })
}

/// The JSON of `/proxy`.
pub fn proxy_json(r: &Result<String, Failure>) -> Value {
    match r {
        Err(f) => json!({"serviceResponse": {"proxyFailure": {
            "code": f.code.as_str(), "description": f.description}}}),
        Ok(pt) => json!({"serviceResponse": {"proxySuccess": {"proxyTicket": pt}}}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_escaped() {
        let s = Success {
            user: "a<b>&\"c'@gov.vn".into(),
            attributes: vec![
                ("name".into(), "Trương </cas:user><cas:user>admin".into()),
                ("unit".into(), "Sở\u{0}Nội vụ".into()),
            ],
            pgt_iou: None,
            proxies: vec!["https://p.gov.vn/cb?a=1&b=2".into()],
        };
        let xml = validation_xml(&Ok(s)).unwrap();
        assert!(xml.starts_with(
            "<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\"><cas:authenticationSuccess><cas:user>a&lt;b&gt;&amp;"
        ), "{xml}");
        assert_eq!(xml.matches("<cas:user>").count(), 1, "{xml}");
        assert!(
            xml.contains("<cas:name>Trương &lt;/cas:user&gt;&lt;cas:user&gt;admin</cas:name>"),
            "{xml}"
        );
        assert!(xml.contains("<cas:unit>SởNội vụ</cas:unit>"), "{xml}");
        assert!(
            xml.contains("<cas:proxy>https://p.gov.vn/cb?a=1&amp;b=2</cas:proxy>"),
            "{xml}"
        );
        let f = Failure::new(Code::InvalidTicket, "ticket <ST-1> & more");
        let xml = validation_xml(&Err(f)).unwrap();
        assert_eq!(
            xml,
            "<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\"><cas:authenticationFailure code=\"INVALID_TICKET\">ticket &lt;ST-1&gt; &amp; more</cas:authenticationFailure></cas:serviceResponse>"
        );
    }

    #[test]
    fn json_and_v1_forms() {
        let s = Success {
            user: "tamtt@binhphuoc.gov.vn".into(),
            attributes: vec![("email".into(), "tamtt@binhphuoc.gov.vn".into())],
            pgt_iou: Some("PGTIOU-1".into()),
            proxies: vec![],
        };
        let j = validation_json(&Ok(s.clone()));
        let ok = &j["serviceResponse"]["authenticationSuccess"];
        let two = Success {
            attributes: vec![("amr".into(), "pwd".into()), ("amr".into(), "otp".into())],
            ..s.clone()
        };
        let j2 = validation_json(&Ok(two));
        assert_eq!(
            j2["serviceResponse"]["authenticationSuccess"]["attributes"]["amr"],
            json!(["pwd", "otp"])
        );
        assert_eq!(ok["user"], "tamtt@binhphuoc.gov.vn");
        assert_eq!(ok["attributes"]["email"][0], "tamtt@binhphuoc.gov.vn");
        assert_eq!(ok["proxyGrantingTicket"], "PGTIOU-1");
        assert_eq!(v1_text(&Ok(s)), "yes\ntamtt@binhphuoc.gov.vn\n");
        let f = Err(Failure::new(Code::InvalidService, "x"));
        assert_eq!(v1_text(&f), "no\n\n");
        assert_eq!(
            validation_json(&f)["serviceResponse"]["authenticationFailure"]["code"],
            "INVALID_SERVICE"
        );
        assert_eq!(
            proxy_xml(&Ok("PT-1".into())).unwrap(),
            "<cas:serviceResponse xmlns:cas=\"http://www.yale.edu/tp/cas\"><cas:proxySuccess><cas:proxyTicket>PT-1</cas:proxyTicket></cas:proxySuccess></cas:serviceResponse>"
        );
        assert_eq!(Format::parse(Some("JSON")), Some(Format::Json));
        assert_eq!(Format::parse(None), Some(Format::Xml));
        assert_eq!(Format::parse(Some("yaml")), None);
    }
}
