//! The `linting:` section of an environment file (the vision documents' shape), decoded
//! strictly. Rule ids are checked against the rule registry by `confiture-lint`, which owns it:
//! each id keeps its location for that error.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::codes;
use crate::config::decode::{suggest, Decoder};
use crate::error::{Location, Result};
use crate::yaml::{Node, Value};

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub const NAMES: [&'static str; 3] = ["info", "warning", "error"];

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" | "warn" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LintingConfig {
    pub enabled: bool,
    /// Findings at or above this severity fail the run (exit 7).
    pub fail_on_severity: Severity,
    /// Per-rule settings, by rule id.
    pub rules: BTreeMap<String, RuleSettings>,
    pub multi_tenant: MultiTenant,
    /// Tables and columns must have comments.
    pub comments_required: CommentsRequired,
    /// Environments in which UNLOGGED tables are findings.
    pub production_environments: Vec<String>,
    pub custom_rules: Vec<CustomRule>,
    /// Compliance bundles to run (`gdpr`, `hipaa`, `pci-dss`, `sox`).
    pub compliance: Vec<(String, Location)>,
}

impl Default for LintingConfig {
    fn default() -> Self {
        LintingConfig {
            enabled: true,
            fail_on_severity: Severity::Error,
            rules: BTreeMap::new(),
            multi_tenant: MultiTenant::default(),
            comments_required: CommentsRequired::default(),
            production_environments: vec!["production".into(), "prod".into()],
            custom_rules: Vec::new(),
            compliance: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleSettings {
    /// `None`: the rule's default severity. `off` disables the rule.
    pub severity: Option<Severity>,
    pub off: bool,
    /// Objects (`schema.table`, `schema.table.column`, file paths) the rule skips, as globs.
    pub exempt: Vec<String>,
    /// Where the rule id is written, for "unknown rule" errors.
    #[serde(skip)]
    pub location: Location,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MultiTenant {
    pub enabled: bool,
    pub required_column: String,
    /// Tables (globs over `schema.table` or `table`) that need no tenant column.
    pub exempt_tables: Vec<String>,
    /// Tenant tables must have row-level security enabled.
    pub require_rls: bool,
}

impl Default for MultiTenant {
    fn default() -> Self {
        MultiTenant {
            enabled: false,
            required_column: "tenant_id".into(),
            exempt_tables: Vec::new(),
            require_rls: false,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct CommentsRequired {
    pub tables: bool,
    pub columns: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomRule {
    pub name: String,
    /// `table_prefix`, `column_required`, `column_forbidden`, `read_model_sources`.
    pub kind: CustomKind,
    /// The prefix (`table_prefix`), column name or glob (`column_required`/`column_forbidden`),
    /// or the table naming pattern of read models (`read_model_sources`).
    pub pattern: String,
    /// Source directories (relative to the project) the rule applies to.
    pub affected_dirs: Vec<String>,
    /// Schemas the rule applies to.
    pub affected_schema: Vec<String>,
    pub severity: Severity,
    pub message: Option<String>,
    #[serde(skip)]
    pub location: Location,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomKind {
    TablePrefix,
    ColumnRequired,
    ColumnForbidden,
    ReadModelSources,
}

impl CustomKind {
    const NAMES: [&'static str; 4] = [
        "table_prefix",
        "column_required",
        "column_forbidden",
        "read_model_sources",
    ];

    fn parse(s: &str) -> Option<CustomKind> {
        match s {
            "table_prefix" => Some(CustomKind::TablePrefix),
            "column_required" => Some(CustomKind::ColumnRequired),
            "column_forbidden" => Some(CustomKind::ColumnForbidden),
            "read_model_sources" => Some(CustomKind::ReadModelSources),
            _ => None,
        }
    }
}

pub const COMPLIANCE_BUNDLES: [&str; 4] = ["gdpr", "hipaa", "pci-dss", "sox"];

fn severity(dec: &Decoder, node: &Node, key: &str) -> Result<Severity> {
    let s = dec.string(node, key)?;
    Severity::parse(&s).ok_or_else(|| {
        dec.error(
            codes::CONFIG_INVALID_VALUE,
            node,
            format!("'{key}' must be one of info, warning, error; found '{s}'"),
        )
    })
}

fn strings(dec: &Decoder, node: &Node, key: &str) -> Result<Vec<String>> {
    match &node.value {
        Value::Str(_) => Ok(vec![dec.string(node, key)?]),
        _ => dec.string_list(node, key),
    }
}

/// Decode `linting:`.
pub fn decode(dec: &Decoder, node: &Node) -> Result<LintingConfig> {
    let mut cfg = LintingConfig::default();
    let mut map = dec.map(node, "linting")?;
    if let Some(n) = map.get("enabled") {
        cfg.enabled = dec.bool(n, "linting.enabled")?;
    }
    if let Some(n) = map.get("fail_on_severity") {
        cfg.fail_on_severity = severity(dec, n, "linting.fail_on_severity")?;
    }
    if let Some(n) = map.get("rules") {
        let Value::Map(entries) = &n.value else {
            return Err(dec.error(
                codes::CONFIG_WRONG_TYPE,
                n,
                "'linting.rules' must be a mapping of rule id to settings",
            ));
        };
        for (k, v) in entries {
            let id = dec.string(k, "linting.rules")?;
            let path = format!("linting.rules.{id}");
            let mut s = RuleSettings {
                severity: None,
                off: false,
                exempt: Vec::new(),
                location: Location::at(dec.file, k.line, k.column),
            };
            match &v.value {
                // `rule: off` or `rule: warning`
                Value::Str(text) if text == "off" => s.off = true,
                Value::Bool(false) => s.off = true,
                Value::Str(_) => s.severity = Some(severity(dec, v, &path)?),
                _ => {
                    let mut r = dec.map(v, &path)?;
                    if let Some(n) = r.get("severity") {
                        if matches!(&n.value, Value::Str(t) if t == "off") {
                            s.off = true;
                        } else {
                            s.severity = Some(severity(dec, n, &format!("{path}.severity"))?);
                        }
                    }
                    if let Some(n) = r.get("enabled") {
                        s.off = !dec.bool(n, &format!("{path}.enabled"))?;
                    }
                    if let Some(n) = r.get("exempt") {
                        s.exempt.extend(strings(dec, n, &format!("{path}.exempt"))?);
                    }
                    if let Some(n) = r.get("exemptions") {
                        s.exempt
                            .extend(strings(dec, n, &format!("{path}.exemptions"))?);
                    }
                    r.finish(dec)?;
                }
            }
            cfg.rules.insert(id, s);
        }
    }
    if let Some(n) = map.get("multi_tenant") {
        let mut m = dec.map(n, "linting.multi_tenant")?;
        let mt = &mut cfg.multi_tenant;
        mt.enabled = true;
        if let Some(n) = m.get("enabled") {
            mt.enabled = dec.bool(n, "linting.multi_tenant.enabled")?;
        }
        if let Some(n) = m.get("required_column") {
            mt.required_column = dec.string(n, "linting.multi_tenant.required_column")?;
        }
        if let Some(n) = m.get("exempt_tables") {
            mt.exempt_tables = strings(dec, n, "linting.multi_tenant.exempt_tables")?;
        }
        if let Some(n) = m.get("require_rls") {
            mt.require_rls = dec.bool(n, "linting.multi_tenant.require_rls")?;
        }
        m.finish(dec)?;
    }
    if let Some(n) = map.get("comments_required") {
        cfg.comments_required = match &n.value {
            Value::Bool(b) => CommentsRequired {
                tables: *b,
                columns: *b,
            },
            _ => {
                let mut c = dec.map(n, "linting.comments_required")?;
                let mut out = CommentsRequired::default();
                if let Some(n) = c.get("tables") {
                    out.tables = dec.bool(n, "linting.comments_required.tables")?;
                }
                if let Some(n) = c.get("columns") {
                    out.columns = dec.bool(n, "linting.comments_required.columns")?;
                }
                c.finish(dec)?;
                out
            }
        };
    }
    if let Some(n) = map.get("production_environments") {
        cfg.production_environments = strings(dec, n, "linting.production_environments")?;
    }
    if let Some(n) = map.get("custom_rules") {
        for (i, item) in dec.seq(n, "linting.custom_rules")?.iter().enumerate() {
            cfg.custom_rules.push(custom_rule(dec, item, i)?);
        }
    }
    if let Some(n) = map.get("compliance") {
        for item in dec.seq(n, "linting.compliance")? {
            let name = dec.string(item, "linting.compliance")?;
            if !COMPLIANCE_BUNDLES.contains(&name.as_str()) {
                let err = dec.error(
                    codes::CONFIG_INVALID_VALUE,
                    item,
                    format!("'linting.compliance': unknown bundle '{name}'"),
                );
                return Err(match suggest(&name, &COMPLIANCE_BUNDLES) {
                    Some(s) => err.with_hint(format!("did you mean '{s}'?")),
                    None => err.with_hint(format!("bundles: {}", COMPLIANCE_BUNDLES.join(", "))),
                });
            }
            cfg.compliance
                .push((name, Location::at(dec.file, item.line, item.column)));
        }
    }
    map.finish(dec)?;
    Ok(cfg)
}

fn custom_rule(dec: &Decoder, node: &Node, i: usize) -> Result<CustomRule> {
    let path = format!("linting.custom_rules[{i}]");
    let mut m = dec.map(node, &path)?;
    let missing = |key: &str| {
        dec.error(
            codes::CONFIG_MISSING_KEY,
            node,
            format!("'{path}.{key}' is required"),
        )
    };
    let name = dec.string(
        m.get("name").ok_or_else(|| missing("name"))?,
        &format!("{path}.name"),
    )?;
    let type_node = m.get("type").ok_or_else(|| missing("type"))?;
    let type_text = dec.string(type_node, &format!("{path}.type"))?;
    let kind = CustomKind::parse(&type_text).ok_or_else(|| {
        let err = dec.error(
            codes::CONFIG_INVALID_VALUE,
            type_node,
            format!("'{path}.type': unknown custom rule type '{type_text}'"),
        );
        match suggest(&type_text, &CustomKind::NAMES) {
            Some(s) => err.with_hint(format!("did you mean '{s}'?")),
            None => err.with_hint(format!("types: {}", CustomKind::NAMES.join(", "))),
        }
    })?;
    let pattern = dec.string(
        m.get("pattern").ok_or_else(|| missing("pattern"))?,
        &format!("{path}.pattern"),
    )?;
    let affected_dirs = match m.get("affected_dirs") {
        Some(n) => strings(dec, n, &format!("{path}.affected_dirs"))?,
        None => Vec::new(),
    };
    let affected_schema = match m.get("affected_schema") {
        Some(n) => strings(dec, n, &format!("{path}.affected_schema"))?,
        None => Vec::new(),
    };
    let severity = match m.get("severity") {
        Some(n) => severity(dec, n, &format!("{path}.severity"))?,
        None => Severity::Warning,
    };
    let message = m
        .get("message")
        .map(|n| dec.string(n, &format!("{path}.message")))
        .transpose()?;
    m.finish(dec)?;
    Ok(CustomRule {
        name,
        kind,
        pattern,
        affected_dirs,
        affected_schema,
        severity,
        message,
        location: Location::at(dec.file, node.line, node.column),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn decode_text(text: &str) -> Result<LintingConfig> {
        let file = Path::new("db/environments/local.yaml");
        let lookup = |_: &str| None;
        let dec = Decoder {
            file,
            lookup: &lookup,
        };
        let root = crate::yaml::parse(text, file)?.expect("not empty");
        let mut map = dec.map(&root, "")?;
        let node = map.get("linting").expect("linting");
        decode(&dec, node)
    }

    #[test]
    fn the_vision_shape_decodes() {
        let c = decode_text(
            "linting:\n  enabled: true\n  fail_on_severity: warning\n  rules:\n    require-primary-key: {severity: error, exempt: ['audit.*', staging_rows]}\n    snake-case-names: off\n    prefer-timestamptz: info\n  multi_tenant:\n    required_column: org_id\n    exempt_tables: [public.tenants]\n    require_rls: true\n  comments_required: {tables: true}\n  custom_rules:\n    - name: write-side-prefix\n      type: table_prefix\n      pattern: w_\n      affected_dirs: [db/schema/01_write_side]\n      severity: error\n      message: write-side tables start with w_\n  compliance: [gdpr, pci-dss]\n",
        )
        .unwrap();
        assert_eq!(c.fail_on_severity, Severity::Warning);
        let pk = &c.rules["require-primary-key"];
        assert_eq!(pk.severity, Some(Severity::Error));
        assert_eq!(pk.exempt, vec!["audit.*", "staging_rows"]);
        assert_eq!(pk.location.line, Some(5));
        assert!(c.rules["snake-case-names"].off);
        assert_eq!(c.rules["prefer-timestamptz"].severity, Some(Severity::Info));
        assert!(c.multi_tenant.enabled && c.multi_tenant.require_rls);
        assert_eq!(c.multi_tenant.required_column, "org_id");
        assert!(c.comments_required.tables && !c.comments_required.columns);
        assert_eq!(c.custom_rules[0].kind, CustomKind::TablePrefix);
        assert_eq!(c.custom_rules[0].severity, Severity::Error);
        assert_eq!(
            c.compliance
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>(),
            ["gdpr", "pci-dss"]
        );
    }

    #[test]
    fn bad_values_name_their_line_and_suggest() {
        let err = decode_text("linting:\n  fail_on_severity: fatal\n").unwrap_err();
        assert_eq!(err.code.id, "CONFIG_010");
        assert_eq!(err.location.clone().unwrap().line, Some(2));
        let err = decode_text("linting:\n  compliance: [gpdr]\n").unwrap_err();
        assert_eq!(err.hint.as_deref(), Some("did you mean 'gdpr'?"));
        let err = decode_text(
            "linting:\n  custom_rules:\n    - name: x\n      type: table_prefx\n      pattern: w_\n",
        )
        .unwrap_err();
        assert_eq!(err.hint.as_deref(), Some("did you mean 'table_prefix'?"));
        assert_eq!(err.location.clone().unwrap().line, Some(4));
        let err =
            decode_text("linting:\n  custom_rules:\n    - name: x\n      type: table_prefix\n")
                .unwrap_err();
        assert!(
            err.message.contains("pattern' is required"),
            "{}",
            err.message
        );
        let err = decode_text("linting:\n  multi_tenant: {colum: x}\n").unwrap_err();
        assert_eq!(err.code.id, "CONFIG_005");
    }
}
