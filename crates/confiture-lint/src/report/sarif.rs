//! The SARIF 2.1.0 report, for GitHub code scanning (`github/codeql-action/upload-sarif`) and
//! other SARIF viewers: one run of the `confiture` tool whose `rules` are the rules that
//! produced a finding (registry rules in registry order, then custom rules by name), and one
//! result per finding.
//!
//! A finding with a file is located physically (`artifactLocation.uri`, the project-relative
//! path with forward slashes, and `region` when it has a line); a finding without one (read
//! from a live database) gets a `logicalLocations` entry naming its object instead. GitHub
//! shows only results with a physical location; other viewers show both.

use serde_json::{json, Map, Value};

use super::{slash_path, LintReport};
use crate::finding::Finding;
use crate::registry;
use crate::Severity;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const VERSION: &str = "2.1.0";

/// SARIF `level` of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

pub fn render(report: &LintReport) -> String {
    let mut s = serde_json::to_string_pretty(&document(report)).expect("SARIF serializes");
    s.push('\n');
    s
}

/// The SARIF log as a JSON value.
pub fn document(report: &LintReport) -> Value {
    // Registry rules that produced a finding, in registry order, then custom rules by name.
    let mut ids: Vec<&str> = registry::all()
        .iter()
        .map(|r| r.id)
        .filter(|id| report.findings.iter().any(|f| f.rule == *id))
        .collect();
    let mut custom: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.rule.as_str())
        .filter(|id| registry::find(id).is_none())
        .collect();
    custom.sort_unstable();
    custom.dedup();
    ids.extend(custom);

    let rules: Vec<Value> = ids.iter().map(|id| rule_descriptor(id, report)).collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = ids
                .iter()
                .position(|id| *id == f.rule)
                .expect("every rule is listed");
            result(f, index)
        })
        .collect();

    let mut driver = Map::new();
    driver.insert("name".into(), json!("confiture"));
    if let Some(uri) = information_uri() {
        driver.insert("informationUri".into(), json!(uri));
    }
    driver.insert("version".into(), json!(env!("CARGO_PKG_VERSION")));
    driver.insert("rules".into(), Value::Array(rules));

    json!({
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [{
            "tool": {"driver": driver},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// The package's repository (or homepage) when Cargo.toml names one: SARIF wants an absolute
/// URI here, so there is none rather than a made-up one.
fn information_uri() -> Option<&'static str> {
    [env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_HOMEPAGE")]
        .into_iter()
        .find(|u| !u.is_empty())
}

fn rule_descriptor(id: &str, report: &LintReport) -> Value {
    match registry::find(id) {
        Some(rule) => {
            let mut tags = vec![rule.category.as_str()];
            tags.extend(rule.bundle);
            json!({
                "id": rule.id,
                "name": pascal_case(rule.id),
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.explanation},
                "help": {"text": rule.explanation, "markdown": rule.explanation},
                "defaultConfiguration": {"level": level(rule.severity)},
                "properties": {"tags": tags},
            })
        }
        None => {
            // A custom rule: its severity is the configuration's, the same on every finding.
            let severity = report
                .findings
                .iter()
                .find(|f| f.rule == id)
                .map_or(Severity::Warning, |f| f.severity);
            json!({
                "id": id,
                "name": pascal_case(id),
                "shortDescription": {"text": format!("Custom rule {id} (linting.custom_rules)")},
                "defaultConfiguration": {"level": level(severity)},
                "properties": {"tags": ["custom"]},
            })
        }
    }
}

fn result(f: &Finding, rule_index: usize) -> Value {
    let text = match &f.fix {
        Some(fix) => format!("{}\nFix: {fix}", f.message),
        None => f.message.clone(),
    };
    let mut r = Map::new();
    r.insert("ruleId".into(), json!(f.rule));
    r.insert("ruleIndex".into(), json!(rule_index));
    r.insert("level".into(), json!(level(f.severity)));
    r.insert("message".into(), json!({"text": text}));
    if let Some(file) = &f.file {
        let mut physical = Map::new();
        physical.insert(
            "artifactLocation".into(),
            json!({"uri": slash_path(file), "uriBaseId": "%SRCROOT%"}),
        );
        if let Some(line) = f.line.filter(|l| *l >= 1) {
            let mut region = Map::new();
            region.insert("startLine".into(), json!(line));
            if let Some(column) = f.column.filter(|c| *c >= 1) {
                region.insert("startColumn".into(), json!(column));
            }
            physical.insert("region".into(), Value::Object(region));
        }
        let mut location = Map::new();
        location.insert("physicalLocation".into(), Value::Object(physical));
        if let Some(object) = &f.object {
            location.insert(
                "logicalLocations".into(),
                json!([{"name": object, "fullyQualifiedName": object}]),
            );
        }
        r.insert("locations".into(), json!([location]));
    } else if let Some(object) = &f.object {
        r.insert(
            "locations".into(),
            json!([{"logicalLocations": [{"name": object, "fullyQualifiedName": object}]}]),
        );
    }
    // Stable across line moves: GitHub matches a result to earlier runs' alerts by it.
    let where_ = f
        .object
        .clone()
        .or_else(|| f.file.as_deref().map(slash_path));
    r.insert(
        "partialFingerprints".into(),
        json!({"confitureFinding/v1": format!("{}|{}|{}", f.rule, where_.unwrap_or_default(), f.message)}),
    );
    Value::Object(r)
}

/// `require-primary-key` → `RequirePrimaryKey` (SARIF's conventional rule `name`).
fn pascal_case(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            let first = cs.next().map(|c| c.to_ascii_uppercase()).into_iter();
            first.chain(cs).collect::<String>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::sample;
    use super::*;

    fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
        v.pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("missing string at {pointer} in {v:#}"))
    }

    /// The essential structure SARIF 2.1.0 (and GitHub's upload) requires, checked by hand.
    fn assert_valid(v: &Value) {
        assert_eq!(str_at(v, "/$schema"), SCHEMA);
        assert_eq!(str_at(v, "/version"), "2.1.0");
        let runs = v["runs"].as_array().expect("runs");
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        assert_eq!(str_at(run, "/tool/driver/name"), "confiture");
        assert!(!str_at(run, "/tool/driver/version").is_empty());
        if let Some(uri) = run.pointer("/tool/driver/informationUri") {
            assert!(uri.as_str().unwrap().contains("://"));
        }
        let rules = run
            .pointer("/tool/driver/rules")
            .and_then(Value::as_array)
            .expect("rules");
        let levels = ["none", "note", "warning", "error"];
        for r in rules {
            assert!(!str_at(r, "/id").is_empty());
            assert!(!str_at(r, "/shortDescription/text").is_empty());
            assert!(levels.contains(&str_at(r, "/defaultConfiguration/level")));
        }
        for res in run["results"].as_array().expect("results") {
            let id = str_at(res, "/ruleId");
            let index = res["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(
                str_at(&rules[index], "/id"),
                id,
                "ruleIndex points at ruleId"
            );
            assert!(levels.contains(&str_at(res, "/level")));
            assert!(!str_at(res, "/message/text").is_empty());
            let no_locations = Vec::new();
            let locations = match res.get("locations") {
                Some(l) => l.as_array().expect("locations is an array"),
                None => &no_locations,
            };
            for loc in locations {
                if let Some(p) = loc.get("physicalLocation") {
                    let uri = str_at(p, "/artifactLocation/uri");
                    assert!(!uri.starts_with('/') && !uri.contains('\\') && !uri.contains("://"));
                    if let Some(region) = p.get("region") {
                        assert!(region["startLine"].as_u64().unwrap() >= 1);
                        if let Some(c) = region.get("startColumn") {
                            assert!(c.as_u64().unwrap() >= 1);
                        }
                    }
                } else {
                    let logical = loc["logicalLocations"].as_array().expect("a location kind");
                    assert!(!logical.is_empty() && !str_at(&logical[0], "/name").is_empty());
                }
            }
        }
    }

    #[test]
    fn structure_rules_and_results() {
        let out = render(&sample::report());
        assert!(out.ends_with("}\n"));
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_valid(&v);
        let run = &v["runs"][0];
        assert_eq!(
            str_at(run, "/tool/driver/version"),
            env!("CARGO_PKG_VERSION")
        );

        // Only the rules that produced a finding: registry order, then custom rules.
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| str_at(r, "/id")).collect();
        assert_eq!(
            ids,
            [
                "require-primary-key",
                "require-concurrent-index",
                "my-custom-rule"
            ]
        );
        let pk = registry::find("require-primary-key").unwrap();
        assert_eq!(str_at(&rules[0], "/name"), "RequirePrimaryKey");
        assert_eq!(str_at(&rules[0], "/shortDescription/text"), pk.summary);
        assert_eq!(str_at(&rules[0], "/fullDescription/text"), pk.explanation);
        assert_eq!(str_at(&rules[0], "/help/text"), pk.explanation);
        assert_eq!(str_at(&rules[0], "/defaultConfiguration/level"), "error");
        assert_eq!(str_at(&rules[2], "/defaultConfiguration/level"), "note");

        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        let r0 = &results[0];
        assert_eq!(r0["ruleIndex"], 0);
        assert_eq!(str_at(r0, "/level"), "error");
        assert_eq!(
            str_at(r0, "/message/text"),
            "table public.audit has no primary key\n\
             Fix: add a primary key: ALTER TABLE public.audit ADD PRIMARY KEY (id)"
        );
        let p = &r0["locations"][0]["physicalLocation"];
        assert_eq!(
            str_at(p, "/artifactLocation/uri"),
            "db/schema/10_tables/audit.sql"
        );
        assert_eq!(p["region"], json!({"startLine": 12, "startColumn": 5}));
        assert_eq!(str_at(&results[1], "/level"), "warning");

        // No file: a logical location naming the object, no physical one.
        let r2 = &results[2];
        assert_eq!(str_at(r2, "/level"), "note");
        assert_eq!(r2["ruleIndex"], 2);
        let loc = &r2["locations"][0];
        assert!(loc.get("physicalLocation").is_none());
        assert_eq!(str_at(loc, "/logicalLocations/0/name"), "public.f()");
    }

    #[test]
    fn no_findings_is_a_valid_empty_run() {
        let v = document(&sample::report_of(vec![]));
        assert_valid(&v);
        assert_eq!(v["runs"][0]["results"], json!([]));
        assert_eq!(v["runs"][0]["tool"]["driver"]["rules"], json!([]));
    }

    #[test]
    fn file_without_line_has_no_region() {
        let mut f = sample::finding("r", Severity::Error, "m");
        f.file = Some("db/x.sql".into());
        let v = document(&sample::report_of(vec![f]));
        assert_valid(&v);
        let p = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
        assert!(p.get("region").is_none());
    }

    #[test]
    fn pascal() {
        assert_eq!(pascal_case("require-primary-key"), "RequirePrimaryKey");
        assert_eq!(pascal_case("no_select-star2"), "NoSelectStar2");
    }
}
