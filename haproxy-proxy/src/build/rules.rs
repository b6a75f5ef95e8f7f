//! Compiling a proxy's `acl`, `http-request` and `use_backend` lines with haproxy-acl.

use std::collections::HashMap;
use std::sync::Arc;

use haproxy_acl::{AclSet, Condition};
use haproxy_cfg::model::{Proxy, Rule, RuleKind};

use super::adapters::{AclChooser, AclCondition};
use super::cfg_err;
use super::dynamic::{DynamicName, DynamicRule};
use crate::ProxyError;
use crate::errors::return_reply;
use crate::http::{RedirectKind, RequestCondition, RequestRule, RuleAction};

/// What a frontend's rules compile to.
pub(super) struct Compiled {
    pub(super) rules: Vec<RequestRule>,
    pub(super) chooser: AclChooser,
}

fn at(rule: &Rule, message: impl std::fmt::Display) -> ProxyError {
    cfg_err(format!(
        "parsing [{}:{}] : {message}",
        rule.loc.file, rule.loc.line
    ))
}

fn condition(rule: &Rule, acls: &AclSet) -> Result<Option<Condition>, ProxyError> {
    let Some(cond) = &rule.cond else {
        return Ok(None);
    };
    let mut words = vec![if cond.negated { "unless" } else { "if" }.to_owned()];
    words.extend(cond.words.iter().cloned());
    acls.parse_condition(&words)
        .map(Some)
        .map_err(|e| at(rule, e))
}

fn code(rule: &Rule, word: Option<&String>) -> Result<u16, ProxyError> {
    word.and_then(|w| w.parse::<u16>().ok())
        .filter(|c| (100..=999).contains(c))
        .ok_or_else(|| at(rule, "invalid status code"))
}

/// `dir`: the `default-path` directory relative `return ... file` paths are read from.
fn action(rule: &Rule, dir: Option<&str>) -> Result<RuleAction, ProxyError> {
    let name = rule.words.first().map(String::as_str).unwrap_or_default();
    let mut args = rule.words.iter().skip(1);
    let unsupported = |what: &str| {
        at(
            rule,
            format!("'http-request {name}': '{what}' is not supported yet"),
        )
    };
    match name {
        "allow" => Ok(RuleAction::Allow),
        "use-service" => match args.next().map(String::as_str) {
            Some("prometheus-exporter") => Ok(RuleAction::PrometheusExporter),
            Some(other) => Err(at(
                rule,
                format!("'http-request use-service': unknown service '{other}'"),
            )),
            None => Err(at(
                rule,
                "'http-request use-service' expects a service name",
            )),
        },
        "deny" => {
            let mut status = 403;
            while let Some(w) = args.next() {
                match w.as_str() {
                    "deny_status" | "status" => status = code(rule, args.next())?,
                    other => return Err(unsupported(other)),
                }
            }
            Ok(RuleAction::Deny { status })
        }
        "return" => {
            let (mut status, mut ctype, mut body) = (200, None, Vec::new());
            while let Some(w) = args.next() {
                match w.as_str() {
                    "status" => status = code(rule, args.next())?,
                    "content-type" => ctype = args.next().cloned(),
                    "string" => body = args.next().cloned().unwrap_or_default().into_bytes(),
                    "file" => {
                        let path = args.next().cloned().unwrap_or_default();
                        let at_dir = match dir {
                            Some(d) if !path.starts_with('/') => format!("{d}/{path}"),
                            _ => path.clone(),
                        };
                        body = std::fs::read(at_dir).map_err(|e| {
                            at(
                                rule,
                                format!("'http-request return': cannot read '{path}' ({e})"),
                            )
                        })?;
                    }
                    other => return Err(unsupported(other)),
                }
            }
            Ok(RuleAction::Return(return_reply(
                status,
                ctype.as_deref(),
                body,
            )))
        }
        "redirect" => {
            let kind = match (args.next().map(String::as_str), args.next()) {
                (Some("location"), Some(v)) => RedirectKind::Location(v.clone()),
                (Some("prefix"), Some(v)) => RedirectKind::Prefix(v.clone()),
                (Some("scheme"), Some(v)) => RedirectKind::Scheme(v.clone()),
                _ => {
                    return Err(at(
                        rule,
                        "'http-request redirect' expects location|prefix|scheme <value>",
                    ));
                }
            };
            let mut code_v = 302;
            while let Some(w) = args.next() {
                match w.as_str() {
                    "code" => code_v = code(rule, args.next())?,
                    other => return Err(unsupported(other)),
                }
            }
            Ok(RuleAction::Redirect { kind, code: code_v })
        }
        other => Err(at(
            rule,
            format!("'http-request {other}' is not supported yet"),
        )),
    }
}

fn parse_acls(p: &Proxy, acls: &mut AclSet) -> Result<(), ProxyError> {
    for rule in p.rules.iter().filter(|r| r.kind == RuleKind::Acl) {
        let mut words = vec!["acl".to_owned()];
        words.extend(rule.words.iter().cloned());
        acls.set_origin(&rule.loc.file, rule.loc.line as usize);
        acls.parse_acl(&words).map_err(|e| at(rule, e))?;
    }
    Ok(())
}

fn request_rule(rule: &Rule, acls: &AclSet, dir: Option<&str>) -> Result<RequestRule, ProxyError> {
    let action = action(rule, dir)?;
    let cond =
        condition(rule, acls)?.map(|c| Arc::new(AclCondition(c)) as Arc<dyn RequestCondition>);
    Ok(RequestRule {
        cond,
        negate: false,
        action,
    })
}

/// Compiles the `http-request` rules of a backend or listen section, run after a frontend
/// chose it (with the section's own `acl` lines). `dir`: the section's `default-path` directory.
pub(super) fn compile_backend(
    p: &Proxy,
    acls: &mut AclSet,
    dir: Option<&str>,
) -> Result<Vec<RequestRule>, ProxyError> {
    parse_acls(p, acls)?;
    p.rules
        .iter()
        .filter(|r| r.kind == RuleKind::HttpRequest)
        .map(|r| request_rule(r, acls, dir))
        .collect()
}

/// Compiles the rules of a frontend or listen section: `acl` lines first (HAProxy resolves
/// names over the whole section), then `http-request` and `use_backend` in file order.
/// `names` maps backend names to indexes for dynamic `use_backend` names; `dir` is the
/// section's `default-path` directory.
pub(super) fn compile(
    p: &Proxy,
    acls: &mut AclSet,
    index_of: &dyn Fn(&str) -> Option<usize>,
    names: &Arc<HashMap<String, usize>>,
    dir: Option<&str>,
) -> Result<Compiled, ProxyError> {
    parse_acls(p, acls)?;
    let mut out = Compiled {
        rules: Vec::new(),
        chooser: AclChooser::default(),
    };
    for rule in &p.rules {
        match rule.kind {
            RuleKind::Acl => {}
            RuleKind::HttpRequest => out.rules.push(request_rule(rule, acls, dir)?),
            // Compiled by `tcp_rules`.
            RuleKind::TcpRequest => {}
            RuleKind::UseBackend => {
                let name = rule.words.first().map(String::as_str).unwrap_or_default();
                let position = out.chooser.rules.len() + out.chooser.dynamic.len();
                if name.contains('%') {
                    acls.set_origin(&rule.loc.file, rule.loc.line as usize);
                    let parsed = DynamicName::parse(name, acls).map_err(|e| {
                        at(
                            rule,
                            format!("error detected in proxy '{}' : 'use_backend' : {e}", p.name),
                        )
                    })?;
                    out.chooser.dynamic.push(DynamicRule {
                        position,
                        cond: condition(rule, acls)?,
                        name: parsed,
                        names: Arc::clone(names),
                    });
                    continue;
                }
                let idx = index_of(name).ok_or_else(|| {
                    cfg_err(format!(
                        "Proxy '{}': unable to find required use_backend: '{name}'.",
                        p.name
                    ))
                })?;
                out.chooser.rules.push((condition(rule, acls)?, idx));
            }
            other => {
                return Err(at(
                    rule,
                    format!("{other:?} rules are not supported by the proxy yet"),
                ));
            }
        }
    }
    Ok(out)
}
